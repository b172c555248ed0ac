"""Live events: how an event reaches the WebSocket connections of the users it is for.

Every connection of a user joins that user's group. With Redis (``REDIS_URL``) any process sends
to the group through ``channels_redis``, from one long-lived event loop per process so the Redis
connections are reused. On the embedded default the channel layer is in-memory, one per
process, so a sending process writes a :class:`~notifications.models.LiveEvent` row instead and
the ws process relays new rows to its own layer (:class:`DatabaseRelay`); while no ws process has
a connection, nothing is written at all.

Delivery is best effort and at most a few seconds late: a client that was not connected gets
nothing replayed and reads the API instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import os
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from notifications.models import LiveEvent

logger = logging.getLogger(__name__)

EVENT_TYPES = ("dose.due", "dose.updated", "insight.ready", "stock.low")
MESSAGE_TYPE = "live.event"  # the consumer's ``live_event`` handler
SEND_TIMEOUT_SECONDS = 2.0  # one hand-off to the layer, plus the allowance per message below
SEND_TIMEOUT_PER_MESSAGE_SECONDS = 0.01
SEND_CONCURRENCY = 16  # group sends in flight at once (Redis connections of the sender loop)
RELAY_INTERVAL_SECONDS = 1.0
RELAY_BATCH = 500
RELAY_KEEP = datetime.timedelta(minutes=5)  # relayed rows older than this are deleted
LISTENER_FRESH_SECONDS = 15.0  # a ws process touches its heartbeat file every relay poll
LISTENER_CHECK_CACHE_SECONDS = 2.0


def group_name(user_id: int) -> str:
    return f"user.{user_id}"


def layer_message(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": MESSAGE_TYPE, "event": {"type": event_type, "data": data}}


# --- Sending ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    user_ids: list[int]
    event_type: str
    data: dict[str, Any]


def publish(*, user_ids: list[int], event_type: str, data: dict[str, Any]) -> None:
    """Send one event to every connection of these users. Never raises: a live event must not
    fail the answer or the sweep that caused it."""
    publish_many([Event(user_ids=user_ids, event_type=event_type, data=data)])


def publish_many(events: list[Event]) -> None:
    """Send each event to every connection of its users, all in one hand-off to the channel
    layer (one INSERT on the embedded default): the sweep publishes a batch of due doses at a
    time. Never raises; when the layer fails, the events not yet sent are lost."""
    for event in events:
        if event.event_type not in EVENT_TYPES:
            raise ValueError(event.event_type)
    sends = [(user_id, event) for event in events for user_id in sorted(set(event.user_ids))]
    if not sends:
        return
    try:
        if settings.LIVE_EVENTS_THROUGH_DATABASE:
            if listeners_alive():
                LiveEvent.objects.bulk_create(
                    LiveEvent(user_id=user_id, type=event.event_type, data=event.data) for user_id, event in sends
                )
        else:
            _send_to_layer([(user_id, layer_message(event.event_type, event.data)) for user_id, event in sends])
    except Exception:  # Redis or the database is down: the events are lost, the caller carries on
        types = sorted({event.event_type for _, event in sends})
        logger.warning("%s live events %s were not sent", len(sends), types, exc_info=True)


_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _sender_loop() -> asyncio.AbstractEventLoop:
    """One event loop per process, in a daemon thread, for sending from synchronous code."""
    global _loop  # one per process, created on first use
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="live-events", daemon=True).start()
            _loop = loop
        return _loop


def _send_to_layer(messages: list[tuple[int, dict[str, Any]]]) -> None:
    layer = get_channel_layer()

    by_user: dict[int, list[dict[str, Any]]] = {}
    for user_id, message in messages:
        by_user.setdefault(user_id, []).append(message)

    async def send_all() -> None:
        # Each group_send is two Redis round trips: a few users at a time, each user's events
        # in order.
        limit = asyncio.Semaphore(SEND_CONCURRENCY)

        async def send(user_id: int, user_messages: list[dict[str, Any]]) -> None:
            async with limit:
                for message in user_messages:
                    await layer.group_send(group_name(user_id), message)

        await asyncio.gather(*(send(user_id, user_messages) for user_id, user_messages in by_user.items()))

    future = asyncio.run_coroutine_threadsafe(send_all(), _sender_loop())
    try:
        future.result(timeout=SEND_TIMEOUT_SECONDS + SEND_TIMEOUT_PER_MESSAGE_SECONDS * len(messages))
    except FutureTimeout:
        future.cancel()
        raise


# --- The embedded default: the database relay ------------------------------------------------------


def _listener_dir() -> Path:
    return Path(settings.VAR_DIR) / "live"


_listeners_checked = (0.0, False)


def may_have_listeners() -> bool:
    """False only when no connection can be waiting for an event (embedded default, no ws process
    with a connection); with Redis any process may have one."""
    return not settings.LIVE_EVENTS_THROUGH_DATABASE or listeners_alive()


def listeners_alive() -> bool:
    """Whether a ws process on this machine has had a connection in the last few seconds."""
    global _listeners_checked  # a per-process answer cache
    checked_at, alive = _listeners_checked
    now = time.monotonic()
    if now - checked_at < LISTENER_CHECK_CACHE_SECONDS:
        return alive
    cutoff = time.time() - LISTENER_FRESH_SECONDS
    try:
        alive = any(entry.stat().st_mtime >= cutoff for entry in _listener_dir().glob("*.alive"))
    except OSError:
        alive = False
    _listeners_checked = (now, alive)
    return alive


def forget_listener_check() -> None:
    global _listeners_checked
    _listeners_checked = (0.0, False)


class DatabaseRelay:
    """Runs in the ws process: hands new ``LiveEvent`` rows to this process's channel layer."""

    def __init__(self) -> None:
        self.cursor: int | None = None
        self.started_at = timezone.now()
        self.heartbeat = _listener_dir() / f"ws-{os.getpid()}.alive"
        self.last_prune = 0.0

    def _poll(self) -> list[LiveEvent]:
        close_old_connections()
        self.heartbeat.parent.mkdir(parents=True, exist_ok=True)
        self.heartbeat.touch()
        if self.cursor is None:  # start after what was there before this relay: nothing old is replayed
            older = LiveEvent.objects.filter(created_at__lt=self.started_at)
            self.cursor = older.order_by("-id").values_list("id", flat=True).first() or 0
        rows = list(LiveEvent.objects.filter(id__gt=self.cursor).order_by("id")[:RELAY_BATCH])
        if rows:
            self.cursor = rows[-1].id
        if time.monotonic() - self.last_prune > 60:
            LiveEvent.objects.filter(created_at__lt=timezone.now() - RELAY_KEEP).delete()
            self.last_prune = time.monotonic()
        return rows

    async def relay_once(self) -> int:
        rows = await sync_to_async(self._poll, thread_sensitive=False)()
        layer = get_channel_layer()
        for row in rows:
            await layer.group_send(group_name(row.user_id), layer_message(row.type, row.data))
        return len(rows)

    async def run(self) -> None:
        while True:
            try:
                await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is down: try again at the next poll
                logger.warning("live event relay poll failed", exc_info=True)
            await asyncio.sleep(RELAY_INTERVAL_SECONDS)


_relays: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}


def ensure_relay() -> None:
    """Start this event loop's relay (once) when events come through the database."""
    if not settings.LIVE_EVENTS_THROUGH_DATABASE:
        return
    loop = asyncio.get_running_loop()
    task = _relays.get(loop)
    if task is None or task.done():
        for old_loop in [known for known in _relays if known.is_closed()]:
            del _relays[old_loop]
        _relays[loop] = loop.create_task(DatabaseRelay().run(), name="live-events-relay")


async def stop_relay() -> None:
    """Tests: stop this loop's relay."""
    task = _relays.pop(asyncio.get_running_loop(), None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
