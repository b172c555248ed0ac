"""Gunicorn's access log without credentials or health data (Procfile: ``--logger-class``).

The request line, path and referer go through ``core.logsafe.redact`` (the dose-confirmation
link's token), the query string is dropped (``?search=`` can hold a symptom), and request
headers, response headers and the WSGI environment are not available to the log format (they
hold the ``Authorization`` header).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from gunicorn.glogging import Logger

from core.logsafe import redact


def _safe_url(value: str) -> str:
    if not value or value == "-":
        return "-"
    parts = urlsplit(value)
    return redact(f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else parts.path)


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = {
            key: value
            for key, value in super().atoms(resp, req, environ, request_time).items()
            if not (key.startswith("{") and key[-2:] in ("}i", "}o", "}e"))
        }
        path = redact(environ.get("PATH_INFO", ""))
        atoms["r"] = f"{environ['REQUEST_METHOD']} {path} {environ.get('SERVER_PROTOCOL', '-')}"
        atoms["U"] = path
        atoms["q"] = ""
        atoms["f"] = _safe_url(environ.get("HTTP_REFERER", "-"))
        return atoms
