"""PostgreSQL, with a connection health check that costs no round trip, and server-side prepared
statements for the queries ``core.prepared`` compiles once per process.

Django's health check (``CONN_HEALTH_CHECKS``) runs ``SELECT 1`` before the first query of every
request that reuses a persistent connection: a whole extra round trip, as much as the query the
request came for. This backend asks the socket instead. An idle connection has nothing to read;
when it has, the server sent its goodbye (a restart or shutdown, an idle-session timeout, an
administrator terminating the backend) or closed the socket, and the connection is replaced
before it is used. A server that vanished without a word (a host gone dark) fails the request's
first query instead; Django then drops the connection and the next request opens a new one.

Prepared statements: PostgreSQL parses and plans every statement it is sent; for the API's
small fixed-shape reads that is half of what the server spends on them (docs/performance.md).
:meth:`DatabaseWrapper.prepared` sends ``PREPARE`` once per connection for such a query (its SQL
never changes within a process) and answers the ``EXECUTE`` to send instead. The ``PREPARE`` goes
through the driver's own cursor, like the connection's set-up statements, so it is no query of a
request's count; inside a transaction it runs in a savepoint, so a refusal (PostgreSQL cannot
infer a parameter's type, say) leaves the transaction usable and that query is sent as plain SQL
on this connection from then on. ``DB_PREPARED_STATEMENTS=0`` turns this off: behind a pooler in
transaction mode (PgBouncer) a session's statements are not the next transaction's.
"""

from __future__ import annotations

import itertools
import re
import select

from django.conf import settings
from django.db.backends.postgresql import base

_NAMES = itertools.count(1)
_PLACEHOLDER = re.compile(r"%(s|%)")


def statement_text(sql: str, params: list, slots: tuple[int, ...], literal) -> str | None:
    """Django's SQL (``%s`` parameters, ``%%`` a percent sign) as the text of a ``PREPARE``: the
    parameter at each position in ``slots`` becomes ``$1, $2, …`` in that order, every other one
    the literal ``literal(value)`` writes. None when the SQL does not have ``len(params)``
    parameters."""
    numbers = {position: index for index, position in enumerate(slots, start=1)}
    position = -1

    def replace(match: re.Match) -> str:
        nonlocal position
        if match.group(1) == "%":
            return "%"
        position += 1
        if position >= len(params):
            return ""  # too many: refused below
        return f"${numbers[position]}" if position in numbers else literal(params[position])

    text = _PLACEHOLDER.sub(replace, sql)
    return text if position + 1 == len(params) else None


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._prepared: dict[object, str | None] = {}

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        self._prepared = {}  # a new session knows no statement
        return connection

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        try:
            readable, _, _ = select.select([connection], [], [], 0)
        except (OSError, ValueError):  # the socket is gone
            return False
        return not readable

    def prepared(self, key: object, sql: str, params: list, slots: tuple[int, ...]) -> str | None:
        """The ``EXECUTE`` to send instead of ``sql`` on this connection, preparing it first, with
        the values at ``slots`` (positions in ``params``) as its parameters; None when ``sql`` is
        to be sent as it is.

        ``key`` identifies the query: its SQL and the values at every other position are the same
        every call. Those constants are written into the statement as literals (adapted by the
        driver), so the plan knows them (a status list, a kind) as it would for the plain SQL."""
        if not settings.DB_PREPARED_STATEMENTS:
            return None
        self.ensure_connection()  # a new connection has prepared nothing yet
        try:
            return self._prepared[key]
        except KeyError:
            pass
        raw = self.connection
        with raw.cursor() as cursor:
            text = statement_text(sql, params, slots, lambda value: cursor.mogrify("%s", (value,)).decode())
            if text is None:
                self._prepared[key] = None
                return None
            name = f"meditrack_{next(_NAMES)}"
            in_transaction = not raw.autocommit
            if in_transaction:
                try:
                    cursor.execute("SAVEPOINT meditrack_prepare")
                except self.Database.Error:
                    # The transaction failed before: the plain SQL reports that as Django does.
                    return None
            try:
                cursor.execute(f"PREPARE {name} AS {text}")
            except self.Database.Error:
                if in_transaction:
                    with self.wrap_database_errors:
                        cursor.execute("ROLLBACK TO SAVEPOINT meditrack_prepare")
                self._prepared[key] = None  # refused: plain SQL on this connection from now on
                return None
            if in_transaction:
                with self.wrap_database_errors:
                    cursor.execute("RELEASE SAVEPOINT meditrack_prepare")
        execute = f"EXECUTE {name}({', '.join(['%s'] * len(slots))})" if slots else f"EXECUTE {name}"
        self._prepared[key] = execute
        return execute

    def forget_prepared(self, key: object, error: BaseException) -> bool:
        """After ``key``'s ``EXECUTE`` failed with ``error``: prepare it again (under a new name) on
        its next use. True when every statement of the session is gone (``DEALLOCATE ALL`` or
        ``DISCARD ALL`` ran on it) and none was executed, so the call can simply be made again."""
        if isinstance(error.__cause__, self.Database.errors.InvalidSqlStatementName):
            self._prepared = {}
            return True
        self._prepared.pop(key, None)
        return False
