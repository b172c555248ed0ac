"""A hostile body (deeply nested, malformed) is a 400 on every JSON endpoint, logged in or not."""

import orjson
import pytest

from core.parsers import MAX_JSON_DEPTH, nesting_depth_exceeds

pytestmark = pytest.mark.django_db


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [1_000, 100_000])
@pytest.mark.parametrize(
    ("who", "path"),
    [("anon", "/api/auth/login/"), ("anon", "/api/auth/register/"), ("patient", "/api/medications/")],
)
def test_deeply_nested_json_is_a_400(request, who, path, levels):
    client = request.getfixturevalue("anon" if who == "anon" else "patient_client")
    response = client.post(path, data=f'{{"name": {nested(levels)}}}', content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_deep_body_on_an_update_is_a_400(patient_client):
    response = patient_client.patch("/api/auth/profile/", data=nested(1_000), content_type="application/json")
    assert response.status_code == 400


def test_malformed_and_non_utf8_bodies_are_400(anon):
    for body in (b'{"username": ', b'{"username": "\xff"}', b"[NaN]"):
        response = anon.post("/api/auth/login/", data=body, content_type="application/json")
        assert response.status_code == 400, body


def test_ordinary_bodies_still_parse(anon):
    body = '{"username": "ana", "email": "ana@example.test", "password": "correct-horse-battery-staple"}'
    assert anon.post("/api/auth/register/", data=body, content_type="application/json").status_code == 201


def test_depth_is_counted_exactly():
    assert not nesting_depth_exceeds({"a": [{"b": 1}]}, 3)
    assert nesting_depth_exceeds({"a": [{"b": []}]}, 3)
    assert not nesting_depth_exceeds(orjson.loads(nested(MAX_JSON_DEPTH)), MAX_JSON_DEPTH)
    assert nesting_depth_exceeds(orjson.loads(nested(MAX_JSON_DEPTH + 1)), MAX_JSON_DEPTH)
