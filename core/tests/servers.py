"""Real servers for the fault-injection tests: a private Redis, gunicorn, a Celery worker, SMTP.

Every process is started by a fixture and always stopped by it (kill, then wait), and every wait
is bounded, so a broken build fails a test instead of hanging the suite.
"""

from __future__ import annotations

import datetime
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from medications import services
from medications.models import Frequency

BASE_DIR = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def stop_process(process: subprocess.Popen | None, *, timeout: float = 10) -> str:
    """Terminate (then kill) a child and return the tail of its output, for the test log."""
    if process is None:
        return ""
    if process.poll() is None:
        try:
            os.kill(process.pid, signal.SIGCONT)  # a frozen process cannot act on SIGTERM
            process.terminate()
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
        except ProcessLookupError:
            pass
    log = getattr(process, "log_file", None)
    if log is None:
        return ""
    log.seek(0)
    output = log.read()
    log.close()
    return output.decode(errors="replace")[-4000:]


def spawn(args: list[str], **kwargs: Any) -> subprocess.Popen:
    """Start a child whose output goes to a temporary file (a pipe nobody reads can fill up)."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop_process)
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, **kwargs)
    process.log_file = log
    return process


def database_url() -> str:
    """The URL of the (test) database this process uses, for a child process."""
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def due_now(patient, *, minutes_ago: int = 5, name: str = "Metformin"):
    """A medication whose one daily dose fell ``minutes_ago`` minutes ago."""
    now = timezone.now()
    local = (now - datetime.timedelta(minutes=minutes_ago)).astimezone(patient.tzinfo)
    return services.medication_create(
        patient=patient,
        data={
            "name": name,
            "dosage": "500 mg",
            "frequency": Frequency.CUSTOM,
            "custom_schedule": [local.strftime("%H:%M")],
            "start_date": local.date() - datetime.timedelta(days=1),
        },
        now=now - datetime.timedelta(minutes=minutes_ago + 2),
    )


# --- Redis ----------------------------------------------------------------------------------


class PrivateRedis:
    """A throw-away ``redis-server`` on its own port: no persistence, nothing shared."""

    def __init__(self, workdir: Path) -> None:
        self.binary = shutil.which("redis-server")
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.binary, "redis-server is not installed"
        self.process = spawn(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--loglevel",
                "warning",
            ]
        )
        if not wait_for(lambda: port_open(self.port), timeout=60):
            raise RuntimeError(f"private redis did not start: {self.stop()}")

    def kill(self) -> None:
        """Redis dies (SIGKILL: no goodbye to its clients)."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)
        stop_process(self.process)
        self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> str:
        output = stop_process(self.process)
        self.process = None
        return output


# --- HTTP -----------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    seconds: float
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    port: int,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 15,
) -> Answer:
    """One HTTP request on a fresh connection; the status, the elapsed time and the body."""
    headers = {"Accept": "application/json", **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        return Answer(response.status, time.monotonic() - started, payload, dict(response.getheaders()))
    finally:
        conn.close()


class Gunicorn:
    """The app as production runs it: gunicorn, sync workers, DEBUG off."""

    def __init__(self, *, env: dict[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "SECRET_KEY": settings.SECRET_KEY,  # JWTs minted by the test process are valid there
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            **env,
        }
        self.workers = workers
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = spawn(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--worker-class",
                "sync",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "30",
                "--graceful-timeout",
                "2",
            ],
            cwd=BASE_DIR,
            env=self.env,
        )

        def ready() -> bool:
            if self.process.poll() is not None:
                return True
            try:
                return call(self.port, "GET", "/api/schema/", timeout=5).status == 200
            except OSError:
                return False

        wait_for(ready, timeout=120, interval=0.2)
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {self.stop()}")

    def output(self) -> str:
        """Everything the server has logged so far, read without moving the child's file offset."""
        log = self.process.log_file
        return os.pread(log.fileno(), os.fstat(log.fileno()).st_size, 0).decode(errors="replace")

    def stop(self) -> str:
        output = stop_process(self.process)
        self.process = None
        return output


# --- Celery worker --------------------------------------------------------------------------


def start_worker(*, queue: str, env: dict[str, str]) -> subprocess.Popen:
    return spawn(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
            f"--hostname={queue}@%h",
        ],
        cwd=BASE_DIR,
        env={**os.environ, **env},
    )


# --- SMTP -----------------------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def recipients(self) -> list[str]:
        with self.lock:
            return sorted(rcpt for rcpts, _msg in self.messages for rcpt in rcpts)


class SmtpServer:
    """A local SMTP server that can be taken down and brought back on the same port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self.controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
