from django.urls import path
from rest_framework.routers import SimpleRouter

from notifications import views

router = SimpleRouter()
router.register("push-subscriptions", views.PushSubscriptionViewSet, basename="push-subscription")

urlpatterns = [
    path("vapid-public-key/", views.VapidPublicKeyView.as_view(), name="vapid-public-key"),
    path("demo/", views.DemoPageView.as_view(), name="notifications-demo"),
    *(
        path(f"demo/{name}", views.DemoAssetView.as_view(name=name), name=f"notifications-demo-{name}")
        for name in views.DEMO_ASSETS
    ),
    *router.urls,
]
