"""Querysets whose SQL is built once per process: the ORM's query, without the ORM's per-request cost.

Django builds a queryset (cloning it for every ``filter`` and ``annotate``) and compiles its SQL
each time it is evaluated. For the API's small reads of a fixed shape (one medication, a
summary, a trend, the dashboard's counts) that is more CPU than PostgreSQL spends answering:
0.3–0.7 ms a query, against ~0.05 ms to send the SQL and read the rows (docs/performance.md).

``PreparedQuery(build, **placeholders)`` calls ``build`` once per database with placeholder
values, compiles the queryset it returns, and then runs that same SQL with each call's values.
Each call sends that SQL on a cursor of the connection (the driver's own, unless something
watches the queries: :func:`_fetchall`), fetches every row, and turns the rows
into what evaluating the queryset returns (model instances with their annotations, the dicts of
``values()``, the tuples or values of ``values_list()``) as Django's iterables do, with the
result columns' converters the compilation found: the reading plan (:class:`_Reader`) is made
once, like the SQL. A queryset without such a plan (``select_related``, named rows, composite
keys) goes through Django's own iterable with the compiled compiler. ``build`` may also return an :class:`Aggregation`, answered as
``QuerySet.aggregate`` answers (a dict).

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import QuerySet
from django.db.models.query import FlatValuesListIterable, ModelIterable, ValuesIterable, ValuesListIterable

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
    converters: dict  # the compiler's converters of the result columns (the same every call)
    reader: _Reader | None  # how the fetched rows become the result; None: Django's iterable

    @cached_property
    def positions(self) -> tuple[int, ...]:
        """The parameters' positions that take a call's values, in order."""
        return tuple(sorted(position for position, _, _ in self.slots))


@dataclass(frozen=True)
class _Reader:
    """What a call makes of the fetched rows, decided once from the compiled query: what Django's
    iterable (or ``get_aggregation``) would make of them, without its per-call set-up."""

    kind: str  # "model", "values", "values_list", "flat" or "aggregate"
    converters: tuple  # ((position, converters, expression), ...)
    width: int | None  # the result columns when the SQL selects more (ordering); else None
    names: tuple[str, ...] = ()  # values(): the keys; aggregate: the keys
    model: Any = None  # model: the class, its attnames in the SQL's order, where they are
    init_list: tuple[str, ...] = ()
    model_slice: slice | None = None
    annotations: tuple[tuple[str, int], ...] = ()
    empty: tuple = ()  # aggregate: the values of no row

    def read(self, rows: Sequence[Sequence[Any]], connection) -> Any:
        if self.width is not None:
            rows = [row[: self.width] for row in rows]
        if self.converters:
            rows = list(self._converted(rows, connection))
        kind = self.kind
        if kind == "values_list":
            return rows if not self.converters else [tuple(row) for row in rows]
        if kind == "flat":
            return [row[0] for row in rows]
        if kind == "values":
            names = self.names
            return [dict(zip(names, row)) for row in rows]  # noqa: B905 (a value per name)
        if kind == "aggregate":
            return dict(zip(self.names, rows[0] if rows else self.empty, strict=True))
        model, db, init_list, part = self.model, connection.alias, self.init_list, self.model_slice
        values = [row[part] for row in rows]
        build = getattr(model, "from_db_rows", None)  # core.models.FastLoadModel: all at once
        instances = build(db, init_list, values) if build else [model.from_db(db, init_list, v) for v in values]
        for name, position in self.annotations:
            for instance, row in zip(instances, rows, strict=True):
                setattr(instance, name, row[position])
        return instances

    def _converted(self, rows, connection):
        converters = self.converters
        for row in rows:
            row = list(row)
            for position, functions, expression in converters:
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
            yield row


def _reader(queryset: QuerySet | None, query, compiler, names: tuple[str, ...], converters: dict) -> _Reader | None:
    """The plan that reads the rows of this compiled query as Django would, or None when Django's
    own iterable has to (see the module's docstring)."""
    width = compiler.col_count if compiler.has_extra_select else None
    converters = tuple(
        (position, tuple(functions), expression) for position, (functions, expression) in converters.items()
    )
    columns = [column[0] for column in compiler.select[0 : compiler.col_count]] if compiler.select else []
    if queryset is None:
        empty = tuple(expression.empty_result_set_value for expression in query.annotation_select.values())
        return _Reader("aggregate", converters, compiler.col_count, names=names, empty=empty)
    if compiler.has_composite_fields(columns):
        return None
    iterable = queryset._iterable_class
    if iterable is FlatValuesListIterable:
        return _Reader("flat", converters, width)
    if iterable is ValuesListIterable:
        return _Reader("values_list", converters, width)
    if iterable is ValuesIterable:
        keys = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )
        return _Reader("values", converters, width, names=tuple(keys))
    if iterable is not ModelIterable:
        return None
    klass_info = compiler.klass_info
    if klass_info.get("related_klass_infos"):
        return None  # select_related: Django's populators
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    return _Reader(
        "model",
        converters,
        width,
        model=klass_info["model"],
        init_list=tuple(column[0].target.attname for column in compiler.select[start:end]),
        model_slice=slice(start, end),
        annotations=tuple(compiler.annotation_col_map.items()),
    )


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
        reader = _reader(queryset, query, compiler, result_names, converters)
        return _Compiled(sql, tuple(template), tuple(slots), query, compiler, queryset, converters, reader)

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
        reader = compiled.reader
        if reader is not None:
            return reader.read(_fetchall(connection, sql, params), connection)
        compiler = copy.copy(compiled.compiler)
        compiler.connection = connection  # this thread's connection
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        # The result columns' converters, which the compiler would otherwise look up per call.
        compiler.get_converters = lambda expressions: compiled.converters
        queryset = compiled.queryset  # an aggregation always has a reader
        shell = _QuerySet(queryset, _Query(compiled.query, compiler), connection.alias)
        return list(queryset._iterable_class(shell))


def _fetchall(connection, sql: str, params: list) -> list:
    """Send ``sql`` and fetch every row, through Django's cursor when something watches the
    queries (a debug cursor: ``DEBUG``, ``assertNumQueries``, ``CaptureQueriesContext``; or an
    ``execute_wrapper``), else through the driver's own (:func:`_driver_fetchall`)."""
    if connection.queries_logged or connection.execute_wrappers:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    return _driver_fetchall(connection, sql, params)


def _driver_fetchall(connection, sql: str, params: list) -> list:
    """What ``connection.cursor()``, ``execute`` and ``fetchall`` do, without Django's cursor
    wrapper: the health check and (re)connection, the thread check, a broken transaction refused,
    the cursor the backend makes (PostgreSQL's with its time zone factory), the driver's errors
    raised as ``django.db``'s. The wrapper's own work (its execute-wrapper chain, an error wrapper
    made for each ``fetchall``) cost ~20 µs a query, as much as a round trip's client CPU
    (docs/performance.md)."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()  # refuses an async context, as connection.cursor() does
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        cursor = connection.create_cursor(None)
        try:
            cursor.execute(sql, params)
            return cursor.fetchall()
        finally:
            cursor.close()


def _matches(connection, adapter: str | None, placeholder: Any, param: Any) -> bool:
    if adapter is not None and type(placeholder) is not (
        datetime.date if adapter == "adapt_datefield_value" else datetime.datetime
    ):
        return False
    adapted = _adapt(connection, adapter, placeholder)
    return type(adapted) is type(param) and adapted == param
