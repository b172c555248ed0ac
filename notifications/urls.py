from django.urls import path
from rest_framework.routers import SimpleRouter

from notifications import views

router = SimpleRouter()
router.register("push-subscriptions", views.PushSubscriptionViewSet, basename="push-subscription")

urlpatterns = [
    path("vapid-public-key/", views.VapidPublicKeyView.as_view(), name="vapid-public-key"),
    *router.urls,
]
