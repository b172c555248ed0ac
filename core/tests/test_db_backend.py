"""PostgreSQL: the connection health check asks the socket, and still catches a dropped connection."""

from __future__ import annotations

import psycopg2
import pytest

from accounts.models import User
from core.tests.servers import database_url, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_idle_live_connection_is_usable(postgres):
    assert postgres.is_usable()
    assert postgres.is_usable()  # asking twice changes nothing: no query, no reply to read


def test_a_connection_the_server_dropped_is_replaced_before_the_next_query(postgres):
    backend_pid = postgres.connection.get_backend_pid()
    with psycopg2.connect(database_url()) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend_pid])
    assert wait_for(lambda: not postgres.is_usable(), timeout=5)
    postgres.close_if_unusable_or_obsolete()  # what Django does when a request starts
    assert User.objects.count() >= 0  # the health check replaced the connection: no error
    assert postgres.connection.get_backend_pid() != backend_pid
