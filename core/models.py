"""A model base for rows read in bulk: instances built from the database without ``Model.__init__``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init


class FastLoadModel(models.Model):
    """``from_db`` builds a fully loaded instance the way ``Model.__init__`` builds it from
    positional values (the state, then each concrete field's value under its attname), without
    the per-field loop of ``__init__``; :meth:`from_db_rows` builds many, looking the init
    signals' receivers up once. A partial row (``only()``, ``defer()``) is Django's own
    ``from_db``. ``pre_init`` is sent only when it has receivers (then each row is Django's own
    ``from_db``), ``post_init`` whenever it has receivers, as ``__init__`` sends them."""

    class Meta:
        abstract = True

    @classmethod
    def _fast_load_attnames(cls) -> tuple[str, ...]:
        attnames = cls.__dict__.get("_fast_load_columns")
        if attnames is None:
            attnames = tuple(field.attname for field in cls._meta.concrete_fields)
            cls._fast_load_columns = attnames
        return attnames

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any):
        return cls.from_db_rows(db, field_names, [values])[0]

    @classmethod
    def from_db_rows(cls, db: str | None, field_names: Any, rows: Sequence[Sequence[Any]]) -> list:
        """An instance per row of values (every row of the same columns), as ``from_db`` builds it."""
        attnames = cls._fast_load_attnames()
        if not rows:
            return []
        if len(rows[0]) != len(attnames) or pre_init.has_listeners(cls):
            return [super(FastLoadModel, cls).from_db(db, field_names, values) for values in rows]
        send = post_init.send if post_init.has_listeners(cls) else None
        instances = []
        new = cls.__new__
        for values in rows:
            instance = new(cls)
            state = instance._state = ModelState()
            state.adding = False
            state.db = db
            instance.__dict__.update(zip(attnames, values))  # noqa: B905 (one value per concrete field)
            if send is not None:
                send(sender=cls, instance=instance)
            instances.append(instance)
        return instances
