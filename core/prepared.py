"""Querysets whose SQL is built once per process: the ORM's query, without the ORM's per-request cost.

Django builds a queryset (cloning it for every ``filter`` and ``annotate``) and compiles its SQL
each time it is evaluated. For the API's small reads of a fixed shape (one medication, a
summary, a trend, the dashboard's counts) that is more CPU than PostgreSQL spends answering:
0.3–0.7 ms a query, against ~0.05 ms to send the SQL and read the rows (docs/performance.md).

``PreparedQuery(build, **placeholders)`` calls ``build`` once per database with placeholder
values, compiles the queryset it returns, and then runs that same SQL with each call's values.
Everything else is Django's: the compiler made by that compilation converts the rows, and the
queryset's own iterable turns them into what evaluating the queryset returns (model instances,
the dicts of ``values()``, the tuples of ``values_list()``). ``build`` may also return an
:class:`Aggregation`, answered as ``QuerySet.aggregate`` answers (a dict).

The SQL must depend on the values only through its parameters. So ``build`` never branches on
them, and each placeholder is a scalar of its declared type (``int``, ``str``,
``datetime.date``, ``datetime.datetime``) that reaches the SQL as parameters of its own (an id,
a name, a day, an instant; never a list, which ``__in`` writes one parameter per item, nor a
model instance). This is checked when the query is compiled: two different sets of placeholder
values must give the same SQL with the values at the same positions, else
``ImproperlyConfigured``. Querysets with ``prefetch_related`` are refused (the prefetch is a
second query the compiled one cannot make). ``core/tests/test_prepared.py`` holds the mechanism
to the ORM's answers; the API tests of each read that uses it pin that read's answers.

On PostgreSQL the SQL is also a server-side prepared statement of each connection
(``core/db/base.py``, ``DB_PREPARED_STATEMENTS``): the server parses and plans it once per
connection instead of once per request.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import QuerySet
from django.db.models.sql.constants import SINGLE

_UTC = datetime.UTC


@dataclass(frozen=True)
class Aggregation:
    """What ``build`` returns for ``queryset.aggregate(**aggregates)``."""

    queryset: QuerySet
    aggregates: dict[str, Any] = field(default_factory=dict)

    def __init__(self, queryset: QuerySet, **aggregates: Any) -> None:
        object.__setattr__(self, "queryset", queryset)
        object.__setattr__(self, "aggregates", aggregates)


def _placeholder(kind: type, index: int, variant: int) -> Any:
    """A value of ``kind`` that no real call passes, different for each index and variant."""
    if kind is int:
        return 1_700_000_000 + variant * 10_000_000 + index
    if kind is str:
        return f"prepared-placeholder-{variant}-{index}"
    if kind is datetime.datetime:
        return datetime.datetime(1901 + variant, 1, 1, tzinfo=_UTC) + datetime.timedelta(minutes=index)
    if kind is datetime.date:
        return datetime.date(1901 + variant, 1, 1) + datetime.timedelta(days=index)
    raise ImproperlyConfigured(f"a prepared query's placeholder is int, str, date or datetime, not {kind!r}")


# How a value may reach the parameters: unchanged, or adapted as Django adapts a field's value.
_ADAPTERS = (None, "adapt_datefield_value", "adapt_datetimefield_value")


def _adapt(connection, adapter: str | None, value: Any) -> Any:
    return value if adapter is None else getattr(connection.ops, adapter)(value)


class _Capture(Exception):
    """Raised from ``get_compiler`` to stop an aggregation at the point it would execute."""

    def __init__(self, compiler) -> None:
        self.compiler = compiler


@dataclass(frozen=True)
class _Compiled:
    sql: str
    template: tuple[Any, ...]  # the constant parameters; None where a value goes
    slots: tuple[tuple[int, str, str | None], ...]  # (position, placeholder name, adapter)
    query: Any
    compiler: Any
    queryset: QuerySet | None  # None for an aggregation
    names: tuple[str, ...]  # an aggregation's result keys
    converters: dict  # the compiler's converters of the result columns (the same every call)

    @cached_property
    def positions(self) -> tuple[int, ...]:
        """The parameters' positions that take a call's values, in order."""
        return tuple(sorted(position for position, _, _ in self.slots))


class _Query:
    """The compiled query as the iterables see it: its own attributes, this call's compiler."""

    def __init__(self, query, compiler) -> None:
        self._query = query
        self._compiler = compiler

    def get_compiler(self, *args, **kwargs):
        return self._compiler

    def __getattr__(self, name: str) -> Any:
        return getattr(self._query, name)


class _QuerySet:
    """What Django's iterables read of a queryset."""

    def __init__(self, queryset: QuerySet, query: _Query, db: str) -> None:
        self.query = query
        self.db = db
        self.model = queryset.model
        self._fields = queryset._fields
        self._known_related_objects = {}


def _compile(result: QuerySet | Aggregation, alias: str) -> tuple[str, tuple, Any, Any, tuple[str, ...]]:
    """SQL, parameters, query and compiler of a queryset or an aggregation, as Django makes them,
    and an aggregation's result keys."""
    if isinstance(result, Aggregation):
        query = result.queryset.query.chain()
        original = type(query)

        class Capturing(original):
            # get_aggregation compiles this query itself, unless it needs a subquery (then it
            # compiles a clone inside an AggregateQuery of its own: not a shape prepared here).
            def get_compiler(self, using=None, connection=None, elide_empty=True):
                if self is not query:
                    raise ImproperlyConfigured("a prepared aggregation must not need a subquery")
                raise _Capture(original.get_compiler(self, using, connection, elide_empty))

        query.__class__ = Capturing
        try:
            query.get_aggregation(alias, result.aggregates)
        except _Capture as captured:
            compiler = captured.compiler
        else:
            raise ImproperlyConfigured("a prepared aggregation must not need a subquery")
        finally:
            query.__class__ = original
        sql, params = compiler.as_sql()
        return sql, tuple(params), query, compiler, tuple(query.annotation_select)
    if not isinstance(result, QuerySet):
        raise ImproperlyConfigured(f"build() returns a QuerySet or an Aggregation, not {type(result).__name__}")
    if result._prefetch_related_lookups or result._known_related_objects:
        raise ImproperlyConfigured("a prepared queryset cannot prefetch related objects")
    query = result.query
    compiler = query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    return sql, tuple(params), query, compiler, ()


class PreparedQuery:
    """A queryset (or aggregation) of a fixed shape, compiled once per process and database.

    ``placeholders`` name ``build``'s keyword arguments and their types; calling the prepared
    query with those arguments returns the queryset's rows as a list, or the aggregation's dict,
    read from the default database.
    """

    def __init__(
        self, build: Callable[..., QuerySet | Aggregation], *, replan: bool = False, **placeholders: type
    ) -> None:
        self.build = build
        # replan: never a server-side prepared statement, so PostgreSQL plans it with each call's
        # values (for a query whose generic plan, made without them, is far slower).
        self.replan = replan
        self.placeholders = placeholders
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, alias: str = DEFAULT_DB_ALIAS) -> _Compiled:
        compiled = self._compiled.get(alias)
        if compiled is None:
            compiled = self._compiled[alias] = self._prepare(alias)
        return compiled

    def _prepare(self, alias: str) -> _Compiled:
        names = list(self.placeholders)
        values = [
            {name: _placeholder(self.placeholders[name], index, variant) for index, name in enumerate(names)}
            for variant in (0, 1)
        ]
        try:
            built = self.build(**values[0])
            first, second = _compile(built, alias), _compile(self.build(**values[1]), alias)
        except EmptyResultSet as exc:
            raise ImproperlyConfigured("a prepared query must not compile to an empty result") from exc
        sql, params, query, compiler, result_names = first
        if second[0] != sql or len(second[1]) != len(params):
            raise ImproperlyConfigured("a prepared query's SQL depends on its values, not only its parameters")
        connection = connections[alias]
        template: list[Any] = []
        slots = []
        for position, (one, other) in enumerate(zip(params, second[1], strict=True)):
            slot = next(
                (
                    (position, name, adapter)
                    for name in names
                    for adapter in _ADAPTERS
                    if _matches(connection, adapter, values[0][name], one)
                    and _matches(connection, adapter, values[1][name], other)
                ),
                None,
            )
            if slot is not None:
                slots.append(slot)
                template.append(None)
            elif one == other and type(one) is type(other):
                template.append(one)
            else:
                raise ImproperlyConfigured(f"a prepared query's parameter {position} is no placeholder nor constant")
        unused = set(names) - {name for _, name, _ in slots}
        if unused:
            raise ImproperlyConfigured(f"a prepared query's SQL does not use {sorted(unused)} as parameters")
        queryset = None if result_names else built
        if result_names:
            columns = query.annotation_select.values()
        else:
            columns = [column[0] for column in compiler.select[0 : compiler.col_count]]
        converters = compiler.get_converters(columns)
        return _Compiled(sql, tuple(template), tuple(slots), query, compiler, queryset, result_names, converters)

    def __call__(self, **values: Any) -> Any:
        alias = DEFAULT_DB_ALIAS
        compiled = self.compiled(alias)
        connection = connections[alias]
        for name, kind in self.placeholders.items():
            value = values[name]
            # Exactly the declared type (a datetime is no date here: it would be adapted as one).
            if not (type(value) is kind or (kind in (int, str) and isinstance(value, kind))):
                raise TypeError(f"{name} must be {kind.__name__}, not {type(value).__name__}")
        params = list(compiled.template)
        for position, name, adapter in compiled.slots:
            params[position] = _adapt(connection, adapter, values[name])
        # PostgreSQL: the statement prepared on this connection (core/db/base.py), else the SQL.
        prepare = None if self.replan else getattr(connection, "prepared", None)
        if prepare is None:
            return self._run(compiled, connection, compiled.sql, params)
        execute = prepare(self, compiled.sql, params, compiled.positions)
        if execute is None:
            return self._run(compiled, connection, compiled.sql, params)
        arguments = [params[position] for position in compiled.positions]
        try:
            return self._run(compiled, connection, execute, arguments)
        except DatabaseError as error:
            # Made again at once when the session lost its statements outside a transaction;
            # otherwise prepared again on the next call.
            if not connection.forget_prepared(self, error) or connection.in_atomic_block:
                raise
        execute = prepare(self, compiled.sql, params, compiled.positions)
        return self._run(compiled, connection, execute or compiled.sql, arguments if execute else params)

    @staticmethod
    def _run(compiled: _Compiled, connection, sql: str, params: list) -> Any:
        compiler = copy.copy(compiled.compiler)
        compiler.connection = connection  # this thread's connection
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        # The result columns' converters, which the compiler would otherwise look up per call.
        compiler.get_converters = lambda expressions: compiled.converters
        if compiled.queryset is None:
            return _aggregate(compiled, compiler)
        queryset = compiled.queryset
        shell = _QuerySet(queryset, _Query(compiled.query, compiler), connection.alias)
        return list(queryset._iterable_class(shell))


def _matches(connection, adapter: str | None, placeholder: Any, param: Any) -> bool:
    if adapter is not None and type(placeholder) is not (
        datetime.date if adapter == "adapt_datefield_value" else datetime.datetime
    ):
        return False
    adapted = _adapt(connection, adapter, placeholder)
    return type(adapted) is type(param) and adapted == param


def _aggregate(compiled: _Compiled, compiler) -> dict[str, Any]:
    """The rest of ``Query.get_aggregation``: one row, the aggregates' converters, a dict."""
    result = compiler.execute_sql(SINGLE)
    if result is None:
        row = [expression.empty_result_set_value for expression in compiled.query.annotation_select.values()]
    else:
        row = next(compiler.apply_converters((result,), compiled.converters))
    return dict(zip(compiled.names, row, strict=True))
