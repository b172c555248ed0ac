"""Fault injection with real servers: Redis dies or freezes under a running gunicorn.

The app runs as production runs it (gunicorn, 2 sync workers, DEBUG off) against the test
database and a PRIVATE ``redis-server`` that the tests kill (SIGKILL) or freeze (SIGSTOP).
What must hold (docs/operations.md):

- CRUD keeps answering 2xx, never a 500, and a dead or frozen Redis costs each web process one
  failed call (at most a 1 s timeout) per cache per cooldown, then the in-process fallback: the
  test counts the server's "cache unavailable" warnings (its circuit breaker), never seconds;
- login rate limiting keeps answering 429: while Redis is unreachable every web process counts
  on its own, so a client gets at most ``limit × processes`` attempts per window;
- reminders due while the broker is down go out once it is back, each dose exactly once.

PostgreSQL only (the server processes must see the test database); skipped on SQLite, a failure
under MEDITRACK_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter

import pytest
import redis as redis_client
from django.db import connection
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import PatientFactory
from conftest import skip_or_fail
from core.tests.servers import (
    BASE_DIR,
    Gunicorn,
    PrivateRedis,
    SmtpServer,
    call,
    database_url,
    due_now,
    start_worker,
    stop_process,
    wait_for,
)
from medications.models import Reminder, ReminderStatus
from symptoms.models import Symptom

pytestmark = pytest.mark.integration

LOGIN_LIMIT = 2  # per hour and client IP in the server under test
COOLDOWN = 2  # seconds a worker stays on its fallback after a Redis error (10 in production)
_last_recovery = [0.0]  # when Redis last came back (monotonic clock)
SOCKET_TIMEOUT = 1  # seconds a call to a frozen Redis waits (settings: SOCKET_TIMEOUT)
ENOUGH = 10  # answers the outage phase collects before Redis comes back
PHASE_TIMEOUT = 120  # seconds: only a broken build waits this long
_FAILOVER = re.compile(r"cache '([\w-]+)' unavailable")


def failover_warnings(server: Gunicorn, since: int = 0) -> Counter:
    """How many times the server's processes opened their circuit, per cache alias."""
    return Counter(_FAILOVER.findall(server.output()[since:]))


def circuit_bound(server: Gunicorn, seconds: float) -> int:
    """The most circuit openings per cache alias in ``seconds`` of outage: each process opens it
    at most once per cooldown (the next call waits out the cooldown, then at most one timeout),
    plus one for a stale connection right after recovery. A cache without the breaker would log
    one warning per call."""
    return server.workers * (int((seconds + SOCKET_TIMEOUT) // COOLDOWN) + 2)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (DATABASE_URL): gunicorn cannot see an in-memory SQLite test database")
    if not shutil.which("redis-server"):
        skip_or_fail("needs the redis-server binary")
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app_server(django_db_setup, redis_server, tmp_path_factory):
    app = Gunicorn(
        env={
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_server.url,
            "RATELIMIT_LOGIN": f"{LOGIN_LIMIT}/h",
            "CACHE_FAILOVER_COOLDOWN": str(COOLDOWN),
            "TRUSTED_PROXY_COUNT": "1",  # so each test can be its own client (X-Forwarded-For)
            "MEDITRACK_VAR_DIR": str(tmp_path_factory.mktemp("var")),
        }
    )
    app.start()
    yield app
    print(app.stop())


@pytest.fixture
def redis(redis_server):
    """A fresh, running private Redis for each test, which every gunicorn worker uses again
    (the cooldown after an earlier fault has passed); running again afterwards, whatever
    happened."""
    if redis_server.process is None:
        redis_server.start()
        _last_recovery[0] = time.monotonic()
    else:
        redis_client.Redis.from_url(redis_server.url, socket_timeout=2).flushall()
    time.sleep(max(0.0, _last_recovery[0] + COOLDOWN + 0.2 - time.monotonic()))
    yield redis_server
    if redis_server.process is None:
        redis_server.start()
        _last_recovery[0] = time.monotonic()
    else:
        redis_server.thaw()


def inject(redis: PrivateRedis, fault: str) -> None:
    if fault == "stopped":
        redis.kill()
    else:
        redis.freeze()


def recover(redis: PrivateRedis, fault: str) -> None:
    if fault == "stopped":
        redis.start()
    else:
        redis.thaw()
    _last_recovery[0] = time.monotonic()


class Load:
    """Clients creating and listing symptoms in a loop, recording every answer with its phase."""

    def __init__(self, port: int, token: str, clients: int = 2) -> None:
        self.port = port
        self.token = token
        self.phase = "before"
        self.answers: list[tuple[str, str, int, float]] = []
        self.errors: list[BaseException] = []
        self.created = 0
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(clients)]
        self.day = (timezone.now() - datetime.timedelta(days=1)).date().isoformat()

    def record(self, kind: str, answer) -> None:
        with self.lock:
            self.answers.append((self.phase, kind, answer.status, answer.seconds))
            if kind == "create" and answer.status == 201:
                self.created += 1

    def run(self, n: int) -> None:
        i = 0
        while not self.done.is_set():
            i += 1
            phase = self.phase
            try:
                body = {"name": f"Headache {n}-{i}-{phase}", "severity": 3, "date": self.day}
                self.record("create", call(self.port, "POST", "/api/symptoms/", token=self.token, body=body))
                self.record("list", call(self.port, "GET", "/api/symptoms/", token=self.token))
            except Exception as exc:  # noqa: BLE001 (a timeout or reset is a failure, asserted below)
                self.errors.append(exc)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.done.set()
        for thread in self.threads:
            thread.join(timeout=30)


@pytest.mark.parametrize("fault", ["stopped", "frozen"])
def test_crud_keeps_answering_while_redis_fails(transactional_db, app_server, redis, fault):
    patient = PatientFactory(timezone="UTC")
    token = str(AccessToken.for_user(patient))
    with Load(app_server.port, token) as load:

        def collected(phase: str, enough: int) -> bool:
            return len([a for a in load.answers if a[0] == phase]) >= enough or bool(load.errors)

        assert wait_for(lambda: collected("before", 2), timeout=PHASE_TIMEOUT)
        log_offset = len(app_server.output())
        started = time.monotonic()
        load.phase = "outage"
        inject(redis, fault)
        assert wait_for(lambda: collected("outage", ENOUGH), timeout=PHASE_TIMEOUT), "no answers during the outage"
        load.phase = "after"
        recover(redis, fault)
        outage_seconds = time.monotonic() - started
        assert wait_for(lambda: collected("after", 2), timeout=PHASE_TIMEOUT)
        warnings = failover_warnings(app_server, since=log_offset)

    assert load.errors == [], load.errors[:3]
    assert all(a[1] != "create" or a[2] == 201 for a in load.answers), sorted({a[2] for a in load.answers})
    assert all(a[1] != "list" or a[2] == 200 for a in load.answers), sorted({a[2] for a in load.answers})
    # The circuit breaker, not the clock: the outage was noticed, and each process paid for it
    # at most once per cooldown per cache. CRUD goes through the "reads" alias (data versions and
    # cached reads: its primary is "redis-reads"); no user cache sits on the path any more.
    assert warnings["redis-reads"] >= 1, warnings
    bound = circuit_bound(app_server, outage_seconds)
    assert all(count <= bound for count in warnings.values()), (warnings, bound, outage_seconds)
    # Nothing was lost or doubled on the way: the database has exactly what was acknowledged.
    # (Counted in the database: a process still on its fallback right after recovery may answer
    # the list from its own memory, which the other process's writes did not invalidate.)
    assert Symptom.objects.filter(patient=patient).count() == load.created


@pytest.mark.parametrize("fault", ["stopped", "frozen"])
def test_login_rate_limit_still_protects_during_the_outage(transactional_db, app_server, redis, fault):
    port = app_server.port
    PatientFactory(username="victim", password="correct-horse-battery-9")
    client = {"X-Forwarded-For": f"198.51.100.{10 + ['stopped', 'frozen'].index(fault)}"}

    def attempt():
        return call(port, "POST", "/api/auth/login/", body={"username": "victim", "password": "guess"}, headers=client)

    # Redis up: one counter shared by both workers.
    statuses = [attempt().status for _ in range(LOGIN_LIMIT + 1)]
    assert statuses == [401] * LOGIN_LIMIT + [429]

    log_offset = len(app_server.output())
    started = time.monotonic()
    inject(redis, fault)
    try:
        answers = [attempt() for _ in range(3 * LOGIN_LIMIT + 2)]
    finally:
        recover(redis, fault)
    outage_seconds = time.monotonic() - started
    statuses = [answer.status for answer in answers]
    assert set(statuses) <= {401, 429}, statuses
    warnings = failover_warnings(app_server, since=log_offset)
    bound = circuit_bound(app_server, outage_seconds)
    assert warnings["redis"] >= 1 and all(count <= bound for count in warnings.values()), (warnings, bound)
    # The documented policy: per-process counters while Redis is down, so each of the 2 workers
    # lets LOGIN_LIMIT attempts through and refuses the rest: neither fail open (no limit) nor
    # fail closed (every login refused while Redis is down).
    assert LOGIN_LIMIT <= statuses.count(401) <= 2 * LOGIN_LIMIT, statuses
    assert statuses.count(429) >= len(statuses) - 2 * LOGIN_LIMIT, statuses
    refused = next(answer for answer in answers if answer.status == 429)
    assert refused.json()["detail"]
    assert int(refused.headers["Retry-After"]) > 0

    # Once the cooldown has passed, both workers count in Redis again: a restarted Redis (no
    # persistence) starts from zero; a thawed one still holds the window's count.
    time.sleep(COOLDOWN + 0.2)
    statuses = [attempt().status for _ in range(LOGIN_LIMIT + 1)]
    if fault == "stopped":
        assert statuses == [401] * LOGIN_LIMIT + [429]
    else:
        assert statuses == [429] * (LOGIN_LIMIT + 1)


def test_reminders_due_during_a_broker_outage_go_out_once_after_it(transactional_db, redis_server, tmp_path):
    """A real worker on the private Redis; beat's publications are done by the test."""
    from kombu.exceptions import OperationalError as BrokerError

    from config.celery import app as celery_app
    from medications.tasks import send_due_reminders

    redis = redis_server
    if redis.process is None:
        redis.start()
    smtp = SmtpServer()
    smtp.start()
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    env = {
        "DATABASE_URL": database_url(),
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": redis.url,
        "MEDITRACK_VAR_DIR": str(tmp_path),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "EMAIL_USE_TLS": "0",
        "EMAIL_USE_SSL": "0",
    }
    worker = start_worker(queue=queue, env=env)

    def publish() -> None:
        """What beat does every tick: one message on the broker."""
        with celery_app.connection_for_write(redis.url) as conn:
            send_due_reminders.apply_async(queue=queue, connection=conn)

    def queue_drained() -> bool:
        return redis_client.Redis.from_url(redis.url, socket_timeout=1).llen(queue) == 0

    def worker_idle() -> bool:
        """Every message taken off the queue is acknowledged (acks_late: after the task returned);
        kombu keeps a delivered, unacknowledged message in the broker's ``unacked`` hash."""
        client = redis_client.Redis.from_url(redis.url, socket_timeout=1)
        return client.llen(queue) == 0 and client.hlen("unacked") == 0

    try:
        before = PatientFactory(timezone="UTC", email="before@example.test")
        due_now(before, minutes_ago=10)
        publish()
        assert wait_for(lambda: smtp.inbox.recipients() == ["before@example.test"], timeout=40), (
            f"the worker sent nothing: {smtp.inbox.recipients()}"
        )
        # The outage starts between ticks: the email goes out mid-sweep, so wait for the sweep to
        # finish. (Killing the broker while a task is unacknowledged makes kombu 5.7 crash the
        # worker on reconnect, "Unrecoverable error: AttributeError"; a supervisor restarts it.)
        assert wait_for(worker_idle, timeout=40), "the first sweep never finished"

        redis.kill()
        # During the outage, doses fall due; beat's publication fails fast and nothing is sent.
        during = [
            PatientFactory(timezone="Asia/Kolkata", email="kolkata@example.test"),
            PatientFactory(timezone="America/New_York", email="ny@example.test"),
        ]
        for patient in during:
            due_now(patient, minutes_ago=1)
        # Beat's publication gives up instead of blocking the tick: one retry, then the error
        # (settings: CELERY_TASK_PUBLISH_RETRY_POLICY), which the next tick's sweep makes good.
        assert celery_app.conf.task_publish_retry_policy["max_retries"] == 1
        with pytest.raises((BrokerError, OSError)):
            publish()
        time.sleep(1.0)
        assert smtp.inbox.recipients() == ["before@example.test"]

        # Redis is back (empty: no persistence). The next tick's sweep catches up from the
        # database; further ticks and a manual sweep from an operator send nothing more.
        redis.start()
        publish()
        expected = ["before@example.test", "kolkata@example.test", "ny@example.test"]
        assert wait_for(lambda: smtp.inbox.recipients() == expected, timeout=40), smtp.inbox.recipients()
        publish()
        publish()
        manual = subprocess.run(
            [sys.executable, "manage.py", "send_due_reminders"],
            cwd=BASE_DIR,
            env={**os.environ, **env},
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert manual.returncode == 0, manual.stderr.decode()[-2000:]
        assert wait_for(queue_drained, timeout=30)
        time.sleep(1.0)
        assert smtp.inbox.recipients() == expected  # one email per dose, none twice
        assert Reminder.objects.count() == 3
        assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 3
    finally:
        print(stop_process(worker))
        smtp.stop()
        if redis.process is None:
            redis.start()
