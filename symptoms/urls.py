"""Routes of the symptoms app, included from ``config/urls.py``.

Detail routes only match numeric ids (``lookup_value_regex``), so sibling paths such as
``/api/symptoms/ai_insights/`` can live next to this router in any order.
"""

from rest_framework.routers import SimpleRouter

from symptoms import views

symptom_router = SimpleRouter()
symptom_router.register("", views.SymptomViewSet, basename="symptom")

mood_router = SimpleRouter()
mood_router.register("", views.MoodViewSet, basename="mood")

symptom_urlpatterns = symptom_router.urls
mood_urlpatterns = mood_router.urls
