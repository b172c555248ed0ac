"""Account deletion across processes: deleted in one gunicorn worker, refused in the other at once.

gunicorn (2 sync workers, DEBUG off) serves the test database on PostgreSQL with a private Redis as
the shared cache (cached reads, rate limits). The access token is first served by both workers
(each holding its database connection and whatever a process keeps); the account is deleted
through one of them; from then on every request with the old access token is
a 401 in both, and the refresh token is refused too. gunicorn's access log names the worker (pid)
that answered each request, so the test knows both were asked.

PostgreSQL only (the server processes must see the test database); skipped on SQLite, a failure
under MEDITRACK_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import re
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import global_settings
from django.db import connection
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import PatientFactory
from conftest import skip_or_fail
from core.tests.servers import Gunicorn, PrivateRedis, call, database_url, wait_for

pytestmark = pytest.mark.integration

PASSWORD = "correct-horse-battery-staple"
ROUNDS = 40  # bounded: at most this many bursts to see both workers answer
BURST = 6


@pytest.fixture(scope="module")
def app_server(django_db_setup, tmp_path_factory):
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (DATABASE_URL): gunicorn cannot see an in-memory SQLite test database")
    if not shutil.which("redis-server"):
        skip_or_fail("needs the redis-server binary")
    redis = PrivateRedis(tmp_path_factory.mktemp("redis"))
    redis.start()
    app = Gunicorn(
        env={
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis.url,
            "MEDITRACK_VAR_DIR": str(tmp_path_factory.mktemp("var")),
            # One access-log line per request: "<worker pid> <status> <method> <path>".
            "GUNICORN_CMD_ARGS": "--access-logfile - --access-logformat '%(p)s %(s)s %(m)s %(U)s'",
        }
    )
    try:
        app.start()
        yield app
    finally:
        print(app.stop())
        redis.stop()


def _log(app: Gunicorn) -> list[tuple[str, int, str, str]]:
    log = app.process.log_file
    log.seek(0)
    text = log.read().decode(errors="replace")
    log.seek(0, 2)
    return [(m[1], int(m[2]), m[3], m[4]) for m in re.finditer(r"^<(\d+)> (\d{3}) (\w+) (\S+)$", text, re.M)]


def _burst(port: int, token: str) -> list[int]:
    with ThreadPoolExecutor(BURST) as pool:
        return list(pool.map(lambda _: call(port, "GET", "/api/auth/profile/", token=token).status, range(BURST)))


def _workers_answering(app: Gunicorn, status: int, *, since: int) -> set[str]:
    return {pid for pid, code, _m, path in _log(app)[since:] if code == status and path == "/api/auth/profile/"}


def test_deleted_in_one_worker_refused_in_the_other(transactional_db, app_server, settings):
    port = app_server.port
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # a hash the server can check
    patient = PatientFactory()
    refresh = RefreshToken.for_user(patient)
    access = str(refresh.access_token)

    for _ in range(ROUNDS):
        assert set(_burst(port, access)) == {200}
        if len(_workers_answering(app_server, 200, since=0)) == 2:
            break
    assert wait_for(lambda: len(_workers_answering(app_server, 200, since=0)) == 2, timeout=5), (
        "one worker answered every request"
    )

    mark = len(_log(app_server))
    answer = call(port, "DELETE", "/api/auth/profile/", token=access, body={"password": PASSWORD})
    assert answer.status == 204, answer.body
    assert not User.objects.filter(pk=patient.pk).exists()

    def deleted_by() -> set[str]:
        return {pid for pid, code, method, _p in _log(app_server)[mark:] if method == "DELETE" and code == 204}

    assert wait_for(lambda: len(deleted_by()) == 1, timeout=5)  # gunicorn logs after it answers
    deleted_by = deleted_by()

    mark = len(_log(app_server))
    for _ in range(ROUNDS):
        assert set(_burst(port, access)) == {401}
        if _workers_answering(app_server, 401, since=mark) - deleted_by:
            break
    assert wait_for(lambda: _workers_answering(app_server, 401, since=mark) - deleted_by, timeout=5), (
        "the other worker was never asked"
    )

    answer = call(port, "POST", "/api/auth/token/refresh/", body={"refresh": str(refresh)})
    assert answer.status == 401, answer.body
