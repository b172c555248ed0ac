import pytest
from django.core.exceptions import ValidationError

from core.validators import reject_html, validate_phone, validate_timezone


@pytest.mark.parametrize(
    "value",
    ["<b>x</b>", "<script>", "hi <img src=x onerror=alert(1)", "</p>", "<!-- c -->", "<?xml", "a<svg/onload=1>", "a<b"],
)
def test_tags_are_rejected(value):
    with pytest.raises(ValidationError) as excinfo:
        reject_html(value)
    assert excinfo.value.messages == ["HTML tags are not allowed in this field."]


@pytest.mark.parametrize("value", ["", "plain", "pain < yesterday", "I <3 it", "x < 5 mg", "5<=6"])
def test_text_without_tags_passes(value):
    reject_html(value)


@pytest.mark.parametrize("value", ["+1 (555) 123-4567", "5551234", "+441234567890123"])
def test_valid_phones(value):
    validate_phone(value)


@pytest.mark.parametrize("value", ["123456", "+1234567890123456", "555-CALL-NOW", "555.123.4567"])
def test_invalid_phones(value):
    with pytest.raises(ValidationError):
        validate_phone(value)


def test_timezones():
    validate_timezone("America/New_York")
    validate_timezone("UTC")
    for bad in ("", "Mars/Base", "../etc/passwd", "utc "):
        with pytest.raises(ValidationError):
            validate_timezone(bad)
