"""The demo page and its assets are served by the app itself (no CDN), under a CSP that lets the
page reach the live-event socket and nothing else."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_demo_page_names_its_socket_and_allows_only_it(client, settings):
    settings.WEBSOCKET_URL = "ws://127.0.0.1:8001/ws/events/"
    response = client.get("/api/notifications/demo/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'data-websocket-url="ws://127.0.0.1:8001/ws/events/"' in html
    assert re.search(r"connect-src[^;]*'self'[^;]*ws://127\.0\.0\.1:8001", response["Content-Security-Policy"])
    assert "script-src 'self'" in response["Content-Security-Policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/api/notifications/demo/") for source in sources)  # no CDN


def test_demo_page_behind_a_proxy_uses_its_own_host(client, settings):
    settings.WEBSOCKET_URL = ""
    response = client.get("/api/notifications/demo/", HTTP_HOST="localhost")
    assert 'data-websocket-url=""' in response.content.decode()
    assert "ws://localhost" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("name", "content_type", "marker"),
    [
        ("demo.js", "text/javascript", "new WebSocket("),
        ("sw.js", "text/javascript", 'addEventListener("push"'),
        ("demo.css", "text/css", "body {"),
    ],
)
def test_assets(client, name, content_type, marker):
    response = client.get(f"/api/notifications/demo/{name}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert marker in response.content.decode()


def test_unknown_asset_is_a_json_404(client):
    response = client.get("/api/notifications/demo/other.js")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}
