"""The Gemini adapter with the real google-genai SDK against a local fake server."""

from __future__ import annotations

import json

import pytest

from symptoms.insights import gemini
from symptoms.insights.tests.fake_gemini import OK_ANSWER


def _generate():
    return gemini.generate("How was my week?", system_instruction="Observations only.")


def test_ok_answer_is_parsed_and_request_asks_for_structured_json(fake_gemini):
    result = _generate()

    assert result.summary == OK_ANSWER["summary"]
    assert result.patterns == OK_ANSWER["patterns"]
    assert result.medication_correlations == OK_ANSWER["medication_correlations"]
    assert result.recommendations == OK_ANSWER["recommendations"]
    assert fake_gemini.paths == ["/v1beta/models/gemini-test:generateContent"]
    assert fake_gemini.headers[0]["x-goog-api-key"] == "test-key-not-a-secret"
    body = fake_gemini.requests[0]
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema = config["responseSchema"]
    assert set(schema["required"]) == {"summary", "patterns", "medication_correlations", "recommendations"}
    assert body["contents"][0]["parts"][0]["text"] == "How was my week?"
    assert body["systemInstruction"]["parts"][0]["text"] == "Observations only."


@pytest.mark.parametrize("mode", ["malformed", "wrong_shape"])
def test_malformed_answer_is_a_malformed_error(fake_gemini, mode):
    fake_gemini.mode = mode
    with pytest.raises(gemini.GeminiMalformed) as info:
        _generate()
    assert info.value.transient is False


@pytest.mark.parametrize("mode", ["429", "500"])
def test_rate_limit_and_server_error_are_transient_and_not_retried_by_the_sdk(fake_gemini, mode):
    fake_gemini.mode = mode
    with pytest.raises(gemini.GeminiUnavailable) as info:
        _generate()
    assert info.value.transient is True
    assert len(fake_gemini.requests) == 1  # the Celery task owns retries, not the SDK


def test_slow_answer_times_out_within_the_configured_timeout(fake_gemini, settings):
    # The fake holds its (valid) answer until the test ends: only the client's timeout can make
    # this call fail, so the failure itself shows the timeout is applied.
    fake_gemini.mode = "hold"
    settings.GEMINI_TIMEOUT_SECONDS = 0.5
    with pytest.raises(gemini.GeminiUnavailable):
        _generate()
    assert len(fake_gemini.requests) == 1


def test_refused_connection_is_transient(fake_gemini, settings):
    fake_gemini.stop()
    with pytest.raises(gemini.GeminiUnavailable):
        _generate()


def test_no_key_means_no_call(fake_gemini, settings):
    settings.GEMINI_API_KEY = ""
    assert gemini.is_configured() is False
    with pytest.raises(gemini.GeminiRejected):
        _generate()
    assert fake_gemini.requests == []


def test_refused_request_is_a_permanent_rejection(fake_gemini, settings):
    settings.GEMINI_MODEL = "no/such"  # the fake answers 404 for an unknown path
    with pytest.raises(gemini.GeminiRejected):
        _generate()


class TestParse:
    def test_trims_strips_control_characters_and_caps_lists(self):
        answer = {
            "summary": "  Fine week.\x00 ",
            "patterns": [f"p{i}" for i in range(25)],
            "medication_correlations": [],
            "recommendations": ["Rest."],
        }
        result = gemini.parse_response_text(json.dumps(answer))
        assert result.summary == "Fine week."
        assert len(result.patterns) == gemini.MAX_ITEMS

    @pytest.mark.parametrize(
        "text",
        [
            None,
            "",
            "[]",
            "not json",
            json.dumps({"summary": "x", "patterns": [], "recommendations": []}),
            json.dumps({"summary": "", "patterns": [], "medication_correlations": [], "recommendations": []}),
            json.dumps({"summary": "x", "patterns": [1], "medication_correlations": [], "recommendations": []}),
            json.dumps({"summary": "x", "patterns": [], "medication_correlations": ["a"], "recommendations": []}),
            json.dumps(
                {
                    "summary": "x",
                    "patterns": [],
                    "medication_correlations": [{"medication": "A"}],
                    "recommendations": [],
                }
            ),
        ],
    )
    def test_rejects_off_shape_answers(self, text):
        with pytest.raises(gemini.GeminiMalformed):
            gemini.parse_response_text(text)
