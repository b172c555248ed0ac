"""What a developer sees with `make run`: one line per request and per email, the docs at `/`,
a favicon, a help text with real values."""

from __future__ import annotations

import logging
import subprocess

import pytest
from django.core import mail
from django.test import override_settings

from core.mail import send_templated_email
from core.tests.servers import BASE_DIR

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/api/", "/api"])
def test_the_root_and_the_api_root_open_the_docs(anon, path):
    response = anon.get(path)
    assert response.status_code in (301, 302), response.status_code
    assert response["Location"] == "/api/docs/" or anon.get(response["Location"])["Location"] == "/api/docs/"


def test_there_is_a_favicon(anon):
    from django.contrib.staticfiles import finders

    response = anon.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/core/favicon.svg"
    assert finders.find("core/favicon.svg")  # served by whitenoise (make run, collectstatic)


def _handlers_emitting(name: str, level: int) -> int:
    """How many console handlers print a record of this logger at this level (propagation
    included; pytest's own capture handlers do not count)."""
    logger = logging.getLogger(name)
    record = logger.makeRecord(name, level, __file__, 1, "x", (), None)
    record.status_code = 404
    count = 0
    while logger is not None:
        if not logger.filter(record):
            return count
        console = [h for h in logger.handlers if type(h) is logging.StreamHandler]
        count += sum(1 for h in console if level >= h.level and h.filter(record))
        logger = logger.parent if logger.propagate else None
    return count


def test_a_request_is_one_console_line_whatever_its_status():
    # runserver logs every request on django.server: 2xx at INFO, 4xx at WARNING.
    assert _handlers_emitting("django.server", logging.INFO) == 1
    assert _handlers_emitting("django.server", logging.WARNING) == 1
    # ... and Django logs a 4xx again on django.request: that second line is dropped.
    assert _handlers_emitting("django.request", logging.WARNING) == 0


def test_a_5xx_is_still_logged_with_its_traceback():
    logger = logging.getLogger("django.request")
    record = logger.makeRecord("django.request", logging.ERROR, __file__, 1, "boom", (), None)
    record.status_code = 500
    assert all(f.filter(record) for f in logger.filters)


def test_make_runs_dev_mailbox_writes_each_email_to_a_file_with_one_info_line(settings, tmp_path, caplog):
    settings.VAR_DIR = tmp_path
    with override_settings(EMAIL_BACKEND="core.mail.DevMailboxBackend"), caplog.at_level(logging.INFO):
        send_templated_email(
            to="ana@example.com",
            subject="Time for Metformin",
            template="medications/email/reminder",
            context={},
        )
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1 and b"ana@example.com" in files[0].read_bytes()
    lines = [r for r in caplog.records if r.name == "core.mail"]
    assert [(r.levelno, r.getMessage()) for r in lines] == [(logging.INFO, f"email sent to 1 recipient(s): {files[0]}")]
    assert mail.outbox == []


def test_make_help_prints_the_real_port():
    out = subprocess.run(
        ["make", "--no-print-directory", "help", "PORT=9123"], cwd=BASE_DIR, capture_output=True, text=True, timeout=60
    ).stdout
    assert "http://127.0.0.1:9123/api/docs/" in out
    assert "$(" not in out
