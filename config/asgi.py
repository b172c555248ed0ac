"""ASGI entry point (the Procfile's ``ws`` process): HTTP goes to Django, ``/ws/events/`` to the
live-event consumer. The ``web`` process keeps serving HTTP through gunicorn (config/wsgi.py)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_asgi_application()  # sets Django up before the consumer imports models

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from notifications.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({"http": django_application, "websocket": URLRouter(websocket_urlpatterns)})
