from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST


def crash(request):
    raise RuntimeError("boom")


@require_POST
def post_only(request):  # a plain Django view: its 405 is Django's, rewritten as JSON
    return HttpResponse("ok")


urlpatterns = [path("api/crash/", crash), path("api/post-only/", post_only)]
