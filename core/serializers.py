"""Strict JSON input: a body value must have the JSON type the schema promises.

DRF coerces by default (``"notes": 0`` becomes ``"0"``, ``"is_active": 1`` becomes ``True``,
``"severity": "5"`` becomes ``5``). For a health API that silently accepts junk, that is a bug:
input serializers mix this in so such values are a 400 naming the field. The same mixin is the
one place that bounds dates: every date and datetime field of an input serializer takes only
``DATE_MIN``…``DATE_MAX``, and a datetime must carry its UTC offset (DRF would read a naive one in
the server's zone).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

from core.validators import NAIVE_DATETIME, validate_date_in_range


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _expected(field: serializers.Field) -> tuple[Callable[[Any], bool], str] | None:
    if isinstance(field, serializers.BooleanField):
        return (lambda v: isinstance(v, bool)), "Must be a JSON boolean (true or false)."
    if isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField):
        return _is_int, "Must be a JSON integer."
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        return (lambda v: _is_int(v) or isinstance(v, float)), "Must be a JSON number."
    if isinstance(
        field,
        serializers.CharField | serializers.DateField | serializers.DateTimeField | serializers.TimeField,
    ):
        return (lambda v: isinstance(v, str)), "Must be a JSON string."
    if isinstance(field, serializers.ListField | serializers.ManyRelatedField):
        return (lambda v: isinstance(v, list)), "Must be a JSON array."
    return None


def _date_error(field: serializers.Field, value: str) -> str | None:
    """Why a date/datetime string is refused (out of range, or a naive datetime); None if it is not.

    A string that does not parse is left to DRF's own message."""
    try:
        if isinstance(field, serializers.DateTimeField):
            parsed = parse_datetime(value)
            if parsed is not None and parsed.tzinfo is None:
                return NAIVE_DATETIME
        elif isinstance(field, serializers.DateField):
            parsed = parse_date(value)
        else:
            return None
    except ValueError:
        return None
    if parsed is None:
        return None
    try:
        validate_date_in_range(parsed)
    except DjangoValidationError as exc:
        return exc.messages[0]
    return None


class StrictJSONTypesMixin:
    def to_internal_value(self, data):
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            errors: dict[str, list[str]] = {}
            for name, field in self.fields.items():
                if field.read_only or name not in data or data[name] is None:
                    continue
                rule = _expected(field)
                if rule is not None and not rule[0](data[name]):
                    errors[name] = [rule[1]]
                elif isinstance(data[name], str) and (problem := _date_error(field, data[name])):
                    errors[name] = [problem]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class LeanReadMixin:
    """Fast reads for a ModelSerializer: the same JSON, without building DRF fields per request.

    DRF builds every field of a ModelSerializer each time one is instantiated, then walks them
    per row; on hot read paths that costs more than the SQL. This mixin reads each ``Meta.fields``
    name straight from the instance (a foreign key as its id), or from ``lean_<name>(instance)``
    where the serializer defines one. Dates and datetimes stay Python objects: the orjson renderer
    writes them exactly as DRF would (``core/tests/test_lean_serializers.py`` checks that the two
    outputs are identical). Input and the OpenAPI schema still use the declared DRF fields.
    """

    # (The schema describes a body by its serializer's own docstring only: core.schema.AutoSchema.)
    #
    # The plan (lean_plan) is the one declaration of the shape, read from Meta.fields: a model
    # field is read as its attribute (a foreign key as its id); a name with a lean_<name> hook is
    # written by the hook, from what lean_source(instance) returns (the instance unless the
    # serializer says otherwise); any other name is the attribute of that name, an annotation the
    # queryset adds (medication_name on doses).
    #
    # A whole QuerySet can skip model instances too: with list_serializer_class =
    # LeanListSerializer in Meta, Serializer(queryset, many=True) reads the columns with
    # values_list, the hooks' sources of all rows at once (lean_sources), and writes each row
    # with lean_write: the same plan and the same hooks. That is the long-list fast path (the
    # symptom list, the dose history); each such serializer has a test that it writes what DRF
    # writes.

    _lean_plan: tuple[tuple[str, str | None, str | None], ...]

    @classmethod
    def lean_plan(cls) -> tuple[tuple[str, str | None, str | None], ...]:
        """``(name, attribute, hook)`` per field, in ``Meta.fields`` order; exactly one of
        attribute and hook is set."""
        plan = cls.__dict__.get("_lean_plan")
        if plan is None:
            model = cls.Meta.model
            entries = []
            for name in cls.Meta.fields:
                # A hook is a serializer's own lean_<name>, never this mixin's machinery.
                if hasattr(cls, f"lean_{name}") and f"lean_{name}" not in LeanReadMixin.__dict__:
                    entries.append((name, None, f"lean_{name}"))
                    continue
                try:
                    field = model._meta.get_field(name)
                except FieldDoesNotExist:
                    entries.append((name, name, None))  # an annotation
                    continue
                if field.many_to_many or field.one_to_many:
                    raise TypeError(f"{cls.__name__}.{name} is a relation: give it a lean_{name} hook")
                entries.append((name, field.attname, None))
            plan = tuple(entries)
            cls._lean_plan = plan
        return plan

    @classmethod
    def lean_columns(cls) -> tuple[str, ...]:
        """The attributes the plan reads (``values_list`` names), in field order."""
        return tuple(attribute for _, attribute, _ in cls.lean_plan() if attribute)

    @classmethod
    def _lean_values_plan(cls) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """The column names and the ``(name, hook)`` pairs of a values read."""
        cached = cls.__dict__.get("_lean_values")
        if cached is None:
            plan = cls.lean_plan()
            names = tuple(name for name, attribute, _ in plan if attribute)
            hooks = tuple((name, hook) for name, _, hook in plan if hook)
            if [name for name, _ in hooks] != [name for name, _, _ in plan[len(names) :]]:
                raise TypeError(f"{cls.__name__}: a values read needs the hooks' fields after every column")
            cached = cls._lean_values = (names, hooks)
        return cached

    def lean_source(self, instance: Any) -> Any:
        """What the hooks read for ``instance``."""
        return instance

    def lean_sources(self, rows: list[tuple], queryset: QuerySet) -> list[Any]:
        """What the hooks read for each row of a values read (its column values, in
        :meth:`lean_columns` order) of ``queryset``, all at once. A serializer with hooks defines it to be read
        through a ``LeanListSerializer``."""
        raise NotImplementedError(f"{type(self).__name__} has hooks: a values read needs its lean_sources")

    @classmethod
    def _lean_instance_plan(
        cls,
    ) -> tuple[tuple[str, ...], tuple[str, ...], Callable[[Any], tuple], tuple[tuple[str, str], ...]]:
        """An instance's write: every name (the keys' order), the attributes' names, one getter
        of all the attributes (``operator.attrgetter``: one C call a row instead of a Python
        one per field, the most of a 50-medication list's serializing) and ``(name, hook)``."""
        cached = cls.__dict__.get("_lean_instance")
        if cached is None:
            plan = cls.lean_plan()
            attributes = [(name, attribute) for name, attribute, _ in plan if attribute]
            getter = operator.attrgetter(*(attribute for _, attribute in attributes)) if attributes else None
            if len(attributes) == 1:
                single = getter
                getter = lambda instance: (single(instance),)  # noqa: E731 (attrgetter of one is no tuple)
            elif getter is None:
                getter = lambda instance: ()  # noqa: E731
            hooks = tuple((name, hook) for name, _, hook in plan if hook)
            cached = (tuple(name for name, _, _ in plan), tuple(name for name, _ in attributes), getter, hooks)
            cls._lean_instance = cached
        return cached

    def to_representation(self, instance):
        names, attributes, getter, hooks = self._lean_instance_plan()
        row = dict.fromkeys(names)  # every key in Meta.fields order; the values follow
        row.update(zip(attributes, getter(instance)))  # noqa: B905 (one value per attribute)
        if hooks:
            bound = self.__dict__.get("_lean_hooks")
            if bound is None:
                bound = self._lean_hooks = [(name, getattr(self, hook)) for name, hook in hooks]
            source = self.lean_source(instance)
            for name, hook in bound:
                row[name] = hook(source)
        return row

    # A serializer whose hooks read the instance only (never ``self.context``) sets this in its
    # own class body: its single objects may then be written by :meth:`write`. It is read per
    # class, never inherited (a subclass may add hooks that read the request).
    lean_context_free = False

    @classmethod
    def write(cls, instance: Any) -> dict[str, Any]:
        """What ``cls(instance).data`` holds, written by one serializer of the class kept per
        process rather than a new one per response: DRF's ``Field.__init__`` merges the error
        messages of the serializer's whole class hierarchy on every instantiation, ~20 µs of a
        profile read in place (docs/performance.md, "Sixth pass"). Only for a class that sets
        ``lean_context_free``: a hook reading the request would find no context here."""
        writer = cls.__dict__.get("_lean_writer")
        if writer is None:
            if not cls.__dict__.get("lean_context_free", False):
                raise TypeError(f"{cls.__name__} does not declare lean_context_free: write needs a context-free shape")
            writer = cls._lean_writer = cls()
        return writer.to_representation(instance)

    def lean_write(self, rows: Iterable[tuple[Sequence[Any], Any]]) -> Iterator[dict[str, Any]]:
        """Each ``(column values, hooks' source)`` of a values read, written: what
        :meth:`to_representation` writes for the same row. Column values in :meth:`lean_columns`
        order."""
        names, hooks = self._lean_values_plan()
        bound = [(name, getattr(self, hook)) for name, hook in hooks]
        for values, source in rows:
            # values_list of exactly these columns; strict= would cost ~20 % of this loop.
            row = dict(zip(names, values))  # noqa: B905
            for name, hook in bound:
                row[name] = hook(source)
            yield row

    def lean_rows(self, queryset: QuerySet) -> list[dict[str, Any]]:
        """Every row of ``queryset`` (its filters and order kept) as plain values: one query for
        the columns, plus what :meth:`lean_sources` reads; no model instance."""
        _, hooks = self._lean_values_plan()
        queryset = queryset.prefetch_related(None)
        rows = list(queryset.values_list(*self.lean_columns()))
        if not rows:
            return []
        sources = self.lean_sources(rows, queryset) if hooks else [None] * len(rows)
        return list(self.lean_write(zip(rows, sources, strict=True)))

    def drf_representation(self, instance):
        """DRF's own output for ``instance`` (what the lean one must equal)."""
        return super().to_representation(instance)


class LeanListSerializer(serializers.ListSerializer):
    """Many rows of a lean serializer. A QuerySet (a whole list: a page is a list of instances)
    is read as plain values (:meth:`LeanReadMixin.lean_rows`); anything else row by row."""

    def to_representation(self, data):
        if isinstance(data, QuerySet):
            return self.child.lean_rows(data)
        return super().to_representation(data)
