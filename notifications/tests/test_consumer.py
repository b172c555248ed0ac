"""The event stream, driven through the real ASGI application with channels' WebsocketCommunicator."""

from __future__ import annotations

import asyncio
import datetime

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import DataAccessLog
from accounts.tests.factories import DoctorFactory, PatientFactory
from config.asgi import application
from notifications import live

TIMEOUT = 5
# Transactional: on PostgreSQL, database_sync_to_async closes a connection held in a test transaction.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.LIVE_EVENTS_THROUGH_DATABASE = False


def run(coroutine_function):
    return async_to_sync(coroutine_function)()


async def connected(token: str | None = None):
    communicator = WebsocketCommunicator(application, "/ws/events/")
    ok, _ = await communicator.connect(timeout=TIMEOUT)
    assert ok
    if token is not None:
        await communicator.send_json_to({"type": "auth", "token": token})
        reply = await communicator.receive_json_from(timeout=TIMEOUT)
        assert reply["type"] == "auth.ok", reply
    return communicator


async def closed_with(communicator) -> int:
    output = await communicator.receive_output(timeout=TIMEOUT)
    assert output["type"] == "websocket.close", output
    return output.get("code")


def send(user_id: int, event_type: str, data: dict) -> None:
    async_to_sync(get_channel_layer().group_send)(live.group_name(user_id), live.layer_message(event_type, data))


def test_auth_then_own_events_only():
    alice, bob = PatientFactory(), PatientFactory()

    async def scenario():
        ws_alice = await connected(str(AccessToken.for_user(alice)))
        ws_bob = await connected(str(AccessToken.for_user(bob)))
        layer = get_channel_layer()
        await layer.group_send(live.group_name(alice.pk), live.layer_message("dose.due", {"reminder_id": 7}))
        assert await ws_alice.receive_json_from(timeout=TIMEOUT) == {"type": "dose.due", "data": {"reminder_id": 7}}
        assert await ws_bob.receive_nothing(timeout=0.3)
        await ws_alice.disconnect()
        await ws_bob.disconnect()

    run(scenario)


def test_auth_ok_says_who_and_until_when():
    alice = PatientFactory()
    token = AccessToken.for_user(alice)

    async def scenario():
        ws = await connected()
        await ws.send_json_to({"type": "auth", "token": str(token)})
        reply = await ws.receive_json_from(timeout=TIMEOUT)
        assert reply["type"] == "auth.ok"
        assert reply["data"]["user_id"] == alice.pk
        expected = datetime.datetime.fromtimestamp(token["exp"], tz=datetime.UTC)
        assert datetime.datetime.fromisoformat(reply["data"]["expires_at"]) == expected
        await ws.disconnect()

    run(scenario)


BAD_FIRST_MESSAGES = [
    {"type": "auth", "token": "not-a-jwt"},
    {"type": "auth"},
    {"type": "auth", "token": 42},
    {"type": "subscribe"},
    ["auth"],
    {"type": "auth", "token": "x" * 5000},
]


@pytest.mark.parametrize("message", BAD_FIRST_MESSAGES)
def test_bad_first_message_closes_4401(message):
    async def scenario():
        ws = await connected()
        await ws.send_json_to(message)
        assert await closed_with(ws) == 4401

    run(scenario)


def test_invalid_json_first_closes_4401():
    async def scenario():
        ws = await connected()
        await ws.send_to(text_data="{nope")
        assert await closed_with(ws) == 4401

    run(scenario)


@pytest.mark.parametrize("levels", [1_000, 100_000])
def test_deeply_nested_json_first_closes_4401(levels):
    async def scenario():
        ws = await connected()
        await ws.send_to(text_data="[" * levels + "]" * levels)
        assert await closed_with(ws) == 4401

    run(scenario)


def test_expired_refresh_and_inactive_tokens_close_4401():
    alice = PatientFactory()
    expired = AccessToken.for_user(alice)
    expired.set_exp(lifetime=-datetime.timedelta(seconds=1))
    refresh = str(RefreshToken.for_user(alice))  # a refresh token is not an access token
    gone = PatientFactory(is_active=False)

    async def scenario():
        for token in (str(expired), refresh, str(AccessToken.for_user(gone))):
            ws = await connected()
            await ws.send_json_to({"type": "auth", "token": token})
            assert await closed_with(ws) == 4401

    run(scenario)


def test_no_auth_message_closes_4401_after_the_timeout(settings):
    settings.WEBSOCKET_AUTH_TIMEOUT_SECONDS = 0.2

    async def scenario():
        ws = await connected()
        assert await closed_with(ws) == 4401

    run(scenario)


def test_token_expiring_during_the_connection_closes_4401():
    alice = PatientFactory()
    token = AccessToken.for_user(alice)
    token.set_exp(lifetime=datetime.timedelta(seconds=1))

    async def scenario():
        ws = await connected(str(token))
        assert await closed_with(ws) == 4401

    run(scenario)


def test_a_fresh_token_keeps_the_connection_and_another_users_token_closes_it():
    alice, bob = PatientFactory(), PatientFactory()
    short = AccessToken.for_user(alice)
    short.set_exp(lifetime=datetime.timedelta(seconds=1))

    async def scenario():
        ws = await connected(str(short))
        await ws.send_json_to({"type": "auth", "token": str(AccessToken.for_user(alice))})
        assert (await ws.receive_json_from(timeout=TIMEOUT))["type"] == "auth.ok"
        await asyncio.sleep(1.5)  # past the first token's expiry: still open
        await get_channel_layer().group_send(live.group_name(alice.pk), live.layer_message("dose.due", {"n": 1}))
        assert (await ws.receive_json_from(timeout=TIMEOUT))["data"] == {"n": 1}
        await ws.send_json_to({"type": "auth", "token": str(AccessToken.for_user(bob))})
        assert await closed_with(ws) == 4401

    run(scenario)


def test_doctor_gets_dose_updated_only_and_the_delivery_is_audited():
    doctor = DoctorFactory()
    patient = PatientFactory(assigned_doctor=doctor)

    async def scenario():
        ws = await connected(str(AccessToken.for_user(doctor)))
        layer = get_channel_layer()
        await layer.group_send(live.group_name(doctor.pk), live.layer_message("dose.due", {"patient": patient.pk}))
        await layer.group_send(
            live.group_name(doctor.pk), live.layer_message("dose.updated", {"patient": patient.pk, "id": 3})
        )
        assert await ws.receive_json_from(timeout=TIMEOUT) == {
            "type": "dose.updated",
            "data": {"patient": patient.pk, "id": 3},
        }
        assert await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()

    run(scenario)
    log = list(DataAccessLog.objects.filter(patient=patient).values_list("doctor_id", "resource"))
    assert log == [(doctor.pk, "medications")]


def test_messages_after_auth_other_than_auth_are_ignored():
    alice = PatientFactory()

    async def scenario():
        ws = await connected(str(AccessToken.for_user(alice)))
        await ws.send_json_to({"type": "ping"})
        await ws.send_to(text_data="garbage")
        assert await ws.receive_nothing(timeout=0.3)
        await get_channel_layer().group_send(live.group_name(alice.pk), live.layer_message("insight.ready", {}))
        assert (await ws.receive_json_from(timeout=TIMEOUT))["type"] == "insight.ready"
        await ws.disconnect()

    run(scenario)


def test_embedded_default_relays_events_written_by_other_processes(settings):
    """No Redis: ``publish`` (in any process) writes a row, the ws process's relay delivers it."""
    settings.LIVE_EVENTS_THROUGH_DATABASE = True
    alice, bob = PatientFactory(), PatientFactory()
    live.forget_listener_check()

    async def scenario():
        ws = await connected(str(AccessToken.for_user(alice)))
        try:
            for _ in range(50):  # the relay's first poll: heartbeat written, cursor set
                await asyncio.sleep(0.1)
                live.forget_listener_check()
                if await database_sync_to_async(live.listeners_alive)():
                    break
            await asyncio.sleep(live.RELAY_INTERVAL_SECONDS)
            await database_sync_to_async(live.publish)(user_ids=[bob.pk], event_type="dose.due", data={"for": "bob"})
            await database_sync_to_async(live.publish)(
                user_ids=[alice.pk], event_type="dose.updated", data={"for": "alice"}
            )
            assert await ws.receive_json_from(timeout=TIMEOUT) == {"type": "dose.updated", "data": {"for": "alice"}}
            await ws.disconnect()
        finally:
            await live.stop_relay()

    run(scenario)


def test_embedded_default_writes_nothing_without_a_listener(settings, tmp_path):
    from notifications.models import LiveEvent

    settings.LIVE_EVENTS_THROUGH_DATABASE = True
    settings.VAR_DIR = tmp_path
    live.forget_listener_check()
    live.publish(user_ids=[PatientFactory().pk], event_type="dose.due", data={})
    assert not LiveEvent.objects.exists()
    live.forget_listener_check()


def test_publish_rejects_unknown_event_types():
    with pytest.raises(ValueError):
        live.publish(user_ids=[1], event_type="dose.eaten", data={})


def test_publish_many_sends_every_event_in_one_hand_off_in_order_per_user(monkeypatch):
    """The sweep's batch: every event reaches its user's group, each user's in order, with a
    bounded number of group sends in flight."""
    sent: list[tuple[str, dict]] = []
    in_flight = {"now": 0, "most": 0}

    class Layer:
        async def group_send(self, group, message):
            in_flight["now"] += 1
            in_flight["most"] = max(in_flight["most"], in_flight["now"])
            await asyncio.sleep(0.001)
            sent.append((group, message["event"]))
            in_flight["now"] -= 1

    monkeypatch.setattr(live, "get_channel_layer", Layer)
    events = [
        live.Event(user_ids=[user_id], event_type="dose.due", data={"n": n}) for n in range(3) for user_id in range(40)
    ]
    live.publish_many(events)
    assert len(sent) == 120
    for user_id in range(40):
        mine = [event["data"]["n"] for group, event in sent if group == live.group_name(user_id)]
        assert mine == [0, 1, 2]
    assert 1 < in_flight["most"] <= live.SEND_CONCURRENCY
