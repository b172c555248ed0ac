"""core.models.FastLoadModel: instances read from the database are what Django's own from_db builds."""

from __future__ import annotations

import pytest
from django.db import models
from django.db.models.signals import post_init, pre_init

from accounts.models import User
from accounts.tests.factories import PatientFactory
from core.models import FastLoadModel
from medications.models import Medication, Reminder
from medications.tests.factories import MedicationFactory, ReminderFactory

pytestmark = pytest.mark.django_db


def _djangos(model: type[models.Model], pk: int) -> models.Model:
    """The same row built by Django's from_db (``Model.__init__``)."""
    fields = [field.attname for field in model._meta.concrete_fields]
    values = model.objects.filter(pk=pk).values_list(*fields).get()
    return models.Model.from_db.__func__(model, "default", fields, values)


@pytest.mark.parametrize("model", [User, Medication, Reminder])
def test_the_fast_path_is_the_models_loader(model):
    assert issubclass(model, FastLoadModel)


@pytest.mark.parametrize("factory", [PatientFactory, MedicationFactory, ReminderFactory])
def test_a_full_row_equals_djangos_instance(factory):
    made = factory()
    model = type(made)
    loaded = model.objects.get(pk=made.pk)
    reference = _djangos(model, made.pk)
    assert type(loaded) is model
    for field in model._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(reference, field.attname), field.name
    assert (loaded._state.adding, loaded._state.db) == (False, "default")
    assert loaded.get_deferred_fields() == set()
    assert {k: v for k, v in vars(loaded).items() if k != "_state"} == {
        k: v for k, v in vars(reference).items() if k != "_state"
    }


def test_a_partial_row_defers_the_rest_as_django_does():
    medication = MedicationFactory(notes="kept in the fridge")
    partial = Medication.objects.only("id", "name").get(pk=medication.pk)
    assert partial.get_deferred_fields() >= {"notes", "dosage"}
    assert partial.notes == "kept in the fridge"  # loaded on access


def test_post_init_is_sent_for_every_instance_and_pre_init_when_it_has_receivers():
    medication = MedicationFactory()
    seen: list[tuple[str, object]] = []

    def on_pre(sender, **kwargs):
        seen.append(("pre", sender))

    def on_post(sender, instance, **kwargs):
        seen.append(("post", instance.pk))

    post_init.connect(on_post, sender=Medication)
    try:
        Medication.objects.get(pk=medication.pk)
        assert seen == [("post", medication.pk)]
        pre_init.connect(on_pre, sender=Medication)
        try:
            seen.clear()
            loaded = Medication.objects.get(pk=medication.pk)
            assert seen == [("pre", Medication), ("post", medication.pk)]
            assert loaded.name == medication.name
        finally:
            pre_init.disconnect(on_pre, sender=Medication)
    finally:
        post_init.disconnect(on_post, sender=Medication)


def test_a_user_loaded_remembers_its_zone_as_the_post_init_receiver_does():
    """medications.signals.remember_timezone reads the zone a user was loaded with."""
    user = PatientFactory(timezone="Asia/Kolkata")
    loaded = User.objects.get(pk=user.pk)
    assert loaded.__dict__["_medications_loaded_timezone"] == "Asia/Kolkata"


def test_many_rows_at_once_are_each_what_from_db_builds_and_each_is_announced():
    medications = [MedicationFactory(), MedicationFactory()]
    fields = [field.attname for field in Medication._meta.concrete_fields]
    rows = list(Medication.objects.filter(pk__in=[m.pk for m in medications]).order_by("pk").values_list(*fields))
    announced: list[int] = []

    def on_post(sender, instance, **kwargs):
        announced.append(instance.pk)

    post_init.connect(on_post, sender=Medication)
    try:
        built = Medication.from_db_rows("default", fields, rows)
    finally:
        post_init.disconnect(on_post, sender=Medication)
    assert [m.pk for m in built] == announced == sorted(m.pk for m in medications)
    for instance, values in zip(built, rows, strict=True):
        reference = models.Model.from_db.__func__(Medication, "default", fields, values)
        assert {k: v for k, v in vars(instance).items() if k != "_state"} == {
            k: v for k, v in vars(reference).items() if k != "_state"
        }
    assert Medication.from_db_rows("default", fields, []) == []
