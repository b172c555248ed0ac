"""The orjson renderer writes what DRF's own JSONRenderer writes."""

import datetime
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

from core.renderers import JSONRenderer, dumps

SAMPLE = {
    "utc": datetime.datetime(2026, 3, 1, 7, 0, 0, 123456, tzinfo=datetime.UTC),
    "berlin": datetime.datetime(2026, 3, 1, 8, 0, tzinfo=ZoneInfo("Europe/Berlin")),
    "date": datetime.date(2026, 1, 2),
    "time": datetime.time(8, 30),
    "decimal": Decimal("4.5"),
    "int_keys": {0: ["bad"], 3: ["worse"]},
    "lazy": gettext_lazy("Not found."),
    "error": ErrorDetail("HTML tags are not allowed in this field.", code="html"),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "text": "Tom & <Jerry> – naïve ✓",
    "nested": [{"a": None, "b": True, "c": 1.5, "d": [1, 2, 3]}],
    "tuple": (1, 2),
}


def test_same_bytes_as_drf():
    assert JSONRenderer().render(SAMPLE) == DRFJSONRenderer().render(SAMPLE)


def test_dumps_writes_the_renderers_bytes():
    assert dumps(SAMPLE) == JSONRenderer().render(SAMPLE)


def test_none_is_an_empty_body_as_in_drf():
    assert JSONRenderer().render(None) == DRFJSONRenderer().render(None) == b""


def test_unknown_objects_are_an_error_not_null():
    with pytest.raises(TypeError):
        JSONRenderer().render({"value": object()})


@pytest.mark.django_db
def test_the_api_renders_with_it(patient_client):
    response = patient_client.get("/api/auth/profile/")
    assert isinstance(response.accepted_renderer, JSONRenderer)
    assert response["Content-Type"] == "application/json"
