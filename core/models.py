"""A model base for rows read in bulk: instances built from the database without ``Model.__init__``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init


class FastLoadModel(models.Model):
    """``from_db`` builds a fully loaded instance the way ``Model.__init__`` builds it from
    positional values (the state, then each concrete field's value under its attname), without
    the per-field loop of ``__init__``: 50 medications of a list cost ~0.2 ms less (docs/performance.md).
    A partial row (``only()``, ``defer()``) is Django's own ``from_db``. ``pre_init`` is sent
    only when it has receivers, ``post_init`` always, as ``__init__`` sends them."""

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any):
        attnames = cls.__dict__.get("_fast_load_attnames")
        if attnames is None:
            attnames = tuple(field.attname for field in cls._meta.concrete_fields)
            cls._fast_load_attnames = attnames
        if len(values) != len(attnames) or pre_init.has_listeners(cls):
            return super().from_db(db, field_names, values)
        instance = cls.__new__(cls)
        state = instance._state = ModelState()
        state.adding = False
        state.db = db
        instance.__dict__.update(zip(attnames, values))  # noqa: B905 (one value per concrete field)
        post_init.send(sender=cls, instance=instance)
        return instance
