"""A local HTTP server that speaks the Gemini API's ``generateContent`` REST call.

The real SDK is pointed at it through ``GEMINI_BASE_URL``. ``mode`` picks the behaviour:
``ok`` (a valid structured answer), ``malformed`` (a valid envelope whose text is not JSON),
``wrong_shape`` (JSON of the wrong shape), ``429``, ``500``, ``slow`` (answers after
``delay`` seconds) and ``hold`` (answers once the test sets ``release``). Every request body is recorded so tests can inspect what was sent.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH = re.compile(r"^/v1beta/models/(?P<model>[^/:]+):generateContent$")

OK_ANSWER = {
    "summary": "Headaches were the most frequent symptom and became more severe later in the period.",
    "patterns": ["Headache appeared on most days.", "Severity rose in the second half of the period."],
    "medication_correlations": [
        {"medication": "Examplol", "observation": "Headache severity was higher after Examplol was started."}
    ],
    "recommendations": ["Mention the rising headache severity to your doctor."],
}


class FakeGemini:
    def __init__(self) -> None:
        self.mode = "ok"
        self.delay = 3.0
        # ``hold``: the answer waits until the test sets ``release`` (or ``hold_seconds`` pass),
        # so a test can tell "gave up at its own deadline" from "the answer came" without a clock.
        self.release = threading.Event()
        self.hold_seconds = 30.0
        self.answer: dict = dict(OK_ANSWER)
        self.requests: list[dict] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with fake._lock:
                    fake.paths.append(self.path)
                    fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                    try:
                        fake.requests.append(json.loads(raw or b"{}"))
                    except ValueError:
                        fake.requests.append({"_raw": raw.decode("utf-8", "replace")})
                if not PATH.match(self.path.split("?", 1)[0]):
                    return self._send(404, {"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}})
                mode = fake.mode
                if mode == "429":
                    return self._send(
                        429, {"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}
                    )
                if mode == "500":
                    return self._send(500, {"error": {"code": 500, "message": "Internal", "status": "INTERNAL"}})
                if mode == "slow":
                    time.sleep(fake.delay)
                if mode == "hold":
                    fake.release.wait(timeout=fake.hold_seconds)
                if mode == "malformed":
                    text = '{"summary": "unterminated'
                elif mode == "wrong_shape":
                    text = json.dumps({"summary": 42, "patterns": "not a list"})
                else:
                    text = json.dumps(fake.answer)
                return self._send(200, _envelope(text))

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeGemini:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def sent_text(self) -> str:
        """Everything the SDK sent, as one string (bodies and URLs)."""
        return json.dumps(self.requests) + " ".join(self.paths)


def _envelope(text: str) -> dict:
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 20, "totalTokenCount": 30},
        "modelVersion": "gemini-2.5-flash",
    }
