"""The API documents itself: a valid OpenAPI schema and docs pages that need no internet."""

import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_validates_without_warnings(tmp_path):
    # --fail-on-warn turns any drf-spectacular warning into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "openapi: 3" in (tmp_path / "schema.yml").read_text()


def test_schema_endpoint_declares_bearer_jwt(anon):
    response = anon.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" and s.get("bearerFormat") == "JWT" for s in schemes.values())
    assert "/api/auth/login/" in schema["paths"]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_assets_from_the_app(anon, path):
    response = anon.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "the page loads scripts or styles"
    assert all(not s.startswith(("http://", "https://", "//")) for s in sources), sources
    assert any("/static/drf_spectacular_sidecar/" in s for s in sources)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_satisfy_the_content_security_policy(anon, path):
    response = anon.get(path)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    html = response.content.decode()
    # every script is a file from the app: no inline script that the policy would block
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []


def test_swagger_init_script_is_served_by_the_app(anon):
    html = anon.get("/api/docs/").content.decode()
    init = [s for s in re.findall(r'<script src="([^"]+)"', html) if "sidecar" not in s]
    assert init, html
    response = anon.get(init[0].replace("&amp;", "&"))
    assert response.status_code == 200
    assert b"SwaggerUIBundle" in response.content
