"""Receivers of the lower apps' domain events (medications/events.py, symptoms/insights/events.py):
each turns one into live events (and, for a due dose, push messages)."""

from __future__ import annotations

from django.dispatch import receiver

from medications.events import dose_due, dose_updated, stock_low
from notifications import live, selectors, services
from symptoms.insights.events import insight_ready


@receiver(dose_due, dispatch_uid="notifications.dose_due")
def on_dose_due(sender, reminder_ids: list[int], **kwargs) -> None:
    # The sweep sends one per batch of due doses: one query for the batch's events and one
    # hand-off to the channel layer; when nobody can be listening and nobody has subscribed to
    # push, no query at all.
    live_wanted, push_wanted = live.may_have_listeners(), services.any_push_subscription()
    if not (live_wanted or push_wanted):
        return
    events = selectors.dose_events(reminder_ids)
    if live_wanted:
        live.publish_many(
            [
                live.Event(user_ids=[event.patient_id], event_type="dose.due", data={**event.data, **event.extra})
                for event in events
            ]
        )
    if push_wanted:
        services.doses_push_enqueue(doses=[(event.data["id"], event.patient_id) for event in events if event.push])


@receiver(dose_updated, dispatch_uid="notifications.dose_updated")
def on_dose_updated(sender, reminder_id: int, patient_id: int, **kwargs) -> None:
    if not live.may_have_listeners():
        return
    event = selectors.dose_event(reminder_id)
    if event is None:
        return
    users = [event.patient_id] + ([event.doctor_id] if event.doctor_id else [])
    live.publish(user_ids=users, event_type="dose.updated", data=event.data)


@receiver(stock_low, dispatch_uid="notifications.stock_low")
def on_stock_low(sender, medication_id: int, patient_id: int, **kwargs) -> None:
    if not live.may_have_listeners():
        return
    found = selectors.stock_event_data(medication_id)
    if found is not None:
        live.publish(user_ids=[found[0]], event_type="stock.low", data=found[1])


@receiver(insight_ready, dispatch_uid="notifications.insight_ready")
def on_insight_ready(sender, patient_id: int, **kwargs) -> None:
    if not live.may_have_listeners():
        return
    live.publish(user_ids=[patient_id], event_type="insight.ready", data=selectors.insight_event_data(patient_id))
