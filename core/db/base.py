"""PostgreSQL, with a connection health check that costs no round trip.

Django's health check (``CONN_HEALTH_CHECKS``) runs ``SELECT 1`` before the first query of every
request that reuses a persistent connection: a whole extra round trip, as much as the query the
request came for. This backend asks the socket instead. An idle connection has nothing to read;
when it has, the server sent its goodbye (a restart or shutdown, an idle-session timeout, an
administrator terminating the backend) or closed the socket, and the connection is replaced
before it is used. A server that vanished without a word (a host gone dark) fails the request's
first query instead; Django then drops the connection and the next request opens a new one.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        try:
            readable, _, _ = select.select([connection], [], [], 0)
        except (OSError, ValueError):  # the socket is gone
            return False
        return not readable
