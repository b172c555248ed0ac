"""The Gemini adapter: the only module that imports Google's GenAI SDK (``google-genai``).

One call, :func:`generate`, sends a de-identified prompt, asks for JSON matching
:data:`RESPONSE_SCHEMA` and returns a validated :class:`GeminiInsight`. Every failure is a
:class:`GeminiError`; ``transient`` tells the caller whether trying again later may help.
Configuration comes from settings: ``GEMINI_API_KEY``, ``GEMINI_MODEL``, ``GEMINI_BASE_URL``
(optional endpoint override; the tests point it at a local fake server) and
``GEMINI_TIMEOUT_SECONDS``. The SDK's own retries are disabled: the Celery task owns retries,
so one call never takes longer than its timeout.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field

from django.conf import settings
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

logger = logging.getLogger(__name__)

MAX_ITEMS = 10
MAX_TEXT = 1000
MAX_SUMMARY = 4000
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class GeminiError(Exception):
    """Gemini gave no usable answer."""

    transient = False


class GeminiUnavailable(GeminiError):
    """Rate limited (429), a server error (5xx), a timeout or a network failure: retry later."""

    transient = True


class GeminiRejected(GeminiError):
    """The request was refused (bad key, bad model, blocked content): retrying will not help."""


class GeminiMalformed(GeminiError):
    """The answer was not JSON of the requested shape."""


@dataclass(frozen=True)
class GeminiInsight:
    summary: str
    patterns: list[str] = field(default_factory=list)
    medication_correlations: list[dict[str, str]] = field(default_factory=list)
    recommendations: list[str] = field(default_factory=list)


def _string(description: str) -> types.Schema:
    return types.Schema(type=types.Type.STRING, description=description)


def _string_list(description: str) -> types.Schema:
    return types.Schema(
        type=types.Type.ARRAY, description=description, items=types.Schema(type=types.Type.STRING), max_items=MAX_ITEMS
    )


RESPONSE_SCHEMA = types.Schema(
    type=types.Type.OBJECT,
    properties={
        "summary": _string("Two to four plain-language sentences summarising the period. No diagnosis."),
        "patterns": _string_list("Observed symptom patterns: frequency, timing, severity trends, mood links."),
        "medication_correlations": types.Schema(
            type=types.Type.ARRAY,
            description="Observed relations between a medication and symptom severity. Observations only.",
            max_items=MAX_ITEMS,
            items=types.Schema(
                type=types.Type.OBJECT,
                properties={
                    "medication": _string("The medication's name exactly as given."),
                    "observation": _string("What the data shows around this medication."),
                },
                required=["medication", "observation"],
                property_ordering=["medication", "observation"],
            ),
        ),
        "recommendations": _string_list("Gentle, practical suggestions; say when to contact a doctor."),
    },
    required=["summary", "patterns", "medication_correlations", "recommendations"],
    property_ordering=["summary", "patterns", "medication_correlations", "recommendations"],
)


def is_configured() -> bool:
    return bool(settings.GEMINI_API_KEY)


def _clean(value: object, *, limit: int, what: str) -> str:
    if not isinstance(value, str):
        raise GeminiMalformed(f"{what} is not a string")
    text = _CONTROL_CHARS.sub("", value).strip()
    if not text:
        raise GeminiMalformed(f"{what} is empty")
    return text[:limit]


def _string_items(data: dict, key: str) -> list[str]:
    items = data.get(key)
    if not isinstance(items, list):
        raise GeminiMalformed(f"{key} is not a list")
    return [_clean(item, limit=MAX_TEXT, what=key) for item in items[:MAX_ITEMS]]


def parse_response_text(text: str | None) -> GeminiInsight:
    """Validate Gemini's JSON answer; anything off-shape is :class:`GeminiMalformed`."""
    if not text:
        raise GeminiMalformed("empty answer")
    try:
        data = json.loads(text)
    except ValueError:
        raise GeminiMalformed("answer is not JSON") from None
    if not isinstance(data, dict):
        raise GeminiMalformed("answer is not a JSON object")
    correlations = data.get("medication_correlations")
    if not isinstance(correlations, list):
        raise GeminiMalformed("medication_correlations is not a list")
    parsed_correlations = []
    for item in correlations[:MAX_ITEMS]:
        if not isinstance(item, dict):
            raise GeminiMalformed("a medication correlation is not an object")
        parsed_correlations.append(
            {
                "medication": _clean(item.get("medication"), limit=200, what="medication"),
                "observation": _clean(item.get("observation"), limit=MAX_TEXT, what="observation"),
            }
        )
    return GeminiInsight(
        summary=_clean(data.get("summary"), limit=MAX_SUMMARY, what="summary"),
        patterns=_string_items(data, "patterns"),
        medication_correlations=parsed_correlations,
        recommendations=_string_items(data, "recommendations"),
    )


def _client(timeout_seconds: float) -> genai.Client:
    http_options = types.HttpOptions(
        timeout=max(1, int(timeout_seconds * 1000)),  # the SDK takes milliseconds
        retry_options=types.HttpRetryOptions(attempts=1),  # no SDK retries: the task retries
        base_url=settings.GEMINI_BASE_URL or None,
        api_version="v1beta",  # the Gemini API's REST version (structured output lives there)
    )
    return genai.Client(api_key=settings.GEMINI_API_KEY, http_options=http_options)


def generate(prompt: str, *, system_instruction: str, timeout_seconds: float | None = None) -> GeminiInsight:
    """Ask Gemini for a structured insight. Raises :class:`GeminiError` on any failure."""
    if not is_configured():
        raise GeminiRejected("GEMINI_API_KEY is not set")
    timeout = min(timeout_seconds or settings.GEMINI_TIMEOUT_SECONDS, settings.GEMINI_TIMEOUT_SECONDS)
    config = types.GenerateContentConfig(
        system_instruction=system_instruction,
        response_mime_type="application/json",
        response_schema=RESPONSE_SCHEMA,
        temperature=0.3,
        max_output_tokens=2048,
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    try:
        with _client(timeout) as client:
            response = client.models.generate_content(model=settings.GEMINI_MODEL, contents=prompt, config=config)
            text = response.text
    except genai_errors.APIError as exc:
        logger.warning("Gemini answered HTTP %s", exc.code)
        if exc.code in (408, 429) or (exc.code or 0) >= 500:
            raise GeminiUnavailable(f"Gemini answered HTTP {exc.code}") from None
        raise GeminiRejected(f"Gemini answered HTTP {exc.code}") from None
    except ValueError:
        # The SDK could not decode the HTTP body (not JSON, or not Gemini's envelope).
        logger.warning("Gemini returned an undecodable response")
        raise GeminiMalformed("undecodable response") from None
    except Exception as exc:  # noqa: BLE001
        # The SDK's transport (httpx or httpx2, chosen at runtime) raises its own timeout and
        # connection error types; none of them is importable here without depending on which
        # one is installed, and every one of them means "try again later".
        logger.warning("Gemini call failed: %s", type(exc).__name__)
        raise GeminiUnavailable(type(exc).__name__) from None
    return parse_response_text(text)
