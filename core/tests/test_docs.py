"""The API documents itself: a valid OpenAPI schema and docs pages that need no internet."""

import inspect
import json
import re
from collections import Counter

import pytest
from django.core.management import call_command
from drf_spectacular.generators import EndpointEnumerator
from rest_framework.test import APIClient

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


# --- What the docs say about each operation ------------------------------------------------------


def _schema(anon) -> dict:
    return anon.get("/api/schema/?format=json").json()


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def _inherited_docstrings() -> dict[str, str]:
    """Every docstring of every class a routed view is built from (its own class included: a
    class docstring describes the class, not one of its operations), keyed by its text."""
    docs = {}
    for _path, _regex, _method, callback in EndpointEnumerator().get_api_endpoints():
        for cls in callback.cls.__mro__:
            doc = cls.__dict__.get("__doc__")
            if doc and doc.strip():
                docs[inspect.cleandoc(doc)] = cls.__qualname__
    return docs


def test_no_operation_is_described_by_a_base_class_or_mixin_docstring(anon):
    docs = _inherited_docstrings()
    assert any(name == "DoctorReadAuditMixin" for name in docs.values())  # the one that leaked once
    leaked = [
        (method, path, docs[inspect.cleandoc(operation["description"])])
        for path, method, operation in _operations(_schema(anon))
        if operation.get("description") and inspect.cleandoc(operation["description"]) in docs
    ]
    assert leaked == []


def test_no_body_is_described_by_a_mixin_docstring(anon):
    from core.serializers import LeanReadMixin

    mixin_doc = inspect.cleandoc(LeanReadMixin.__doc__)
    leaked = [
        name
        for name, component in _schema(anon)["components"]["schemas"].items()
        if inspect.cleandoc(component.get("description", "")) == mixin_doc
    ]
    assert leaked == []


def test_every_operation_has_its_own_summary_and_a_description(anon):
    operations = list(_operations(_schema(anon)))
    missing = [(m, p) for p, m, op in operations if not op.get("summary") or not op.get("description")]
    assert missing == []
    summaries = Counter(op["summary"] for _p, _m, op in operations)
    assert [s for s, n in summaries.items() if n > 1] == []


def test_tags_are_described_and_the_auth_flow_comes_first(anon):
    schema = _schema(anon)
    described = {tag["name"] for tag in schema["tags"] if tag.get("description")}
    used = {tag for _p, _m, op in _operations(schema) for tag in op.get("tags", [])}
    assert used <= described, used - described
    auth = [p for p in schema["paths"] if p.startswith("/api/auth/")]
    assert auth[:4] == ["/api/auth/register/", "/api/auth/login/", "/api/auth/token/refresh/", "/api/auth/logout/"]


def test_redoc_text_does_not_mention_an_authorize_button(anon):
    # ReDoc shows the schema's description but has no Authorize button (Swagger UI has one).
    schema = _schema(anon)
    assert "authorize" not in schema["info"]["description"].lower()
    assert "authorize" not in anon.get("/api/redoc/").content.decode().lower()


# Request bodies whose real value comes from an earlier answer or from the browser, so no fixed
# example can be accepted: Swagger UI's generated placeholder is all they can show.
NO_FIXED_EXAMPLE = {
    ("POST", "/api/auth/token/refresh/"),  # the refresh token from login
    ("POST", "/api/auth/logout/"),  # the same
    ("POST", "/api/notifications/push-subscriptions/"),  # the browser's PushSubscription
}


def _sent_reminder(created: dict[str, int]) -> int:
    """A dose the reminder sweep emailed an hour ago, of the medication made from its example."""
    from medications.models import Medication
    from medications.tests.factories import ReminderFactory

    return ReminderFactory(medication=Medication.objects.get(pk=created["/api/medications/"])).pk


# Collections no example creates (the reminder sweep does): how the test makes one.
SEEDS = {"/api/medications/reminders/": _sent_reminder}


def test_try_it_out_with_every_default_request_example_succeeds(anon, mailoutbox):
    """What a newcomer does in Swagger UI: register and log in with the default examples, then
    send every other operation's default body; each must be accepted (no 4xx)."""
    schema = _schema(anon)
    created: dict[str, int] = {}  # collection path -> an id made from its own example
    answers = []
    client = anon
    for path, method, operation in sorted(
        _operations(schema), key=lambda op: (op[1] == "DELETE" and op[0] == "/api/auth/profile/", 0)
    ):
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if content is None:
            continue
        examples = content.get("examples", {})
        if not examples:
            assert (method, path) in NO_FIXED_EXAMPLE, f"{method} {path} has no request example"
            continue
        value = next(iter(examples.values()))["value"]
        url = path
        if "{id}" in path:
            collection = path.split("{id}")[0]
            if collection not in created and collection in SEEDS:
                created[collection] = SEEDS[collection](created)
            assert collection in created, f"{method} {path}: nothing created under {collection} first"
            url = path.replace("{id}", str(created[collection]))
        response = client.generic(method, url, json.dumps(value), content_type="application/json")
        answers.append((method, path, response.status_code, response.content[:300]))
        if path == "/api/auth/login/" and response.status_code == 200:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
        if method == "POST" and response.status_code == 201 and isinstance(response.json(), dict):
            created[path] = response.json().get("id")
    assert [a for a in answers if a[2] >= 400] == []
    assert {("POST", "/api/auth/register/"), ("POST", "/api/auth/login/")} <= {(m, p) for m, p, *_ in answers}
