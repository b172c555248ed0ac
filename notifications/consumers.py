"""The event stream: ``/ws/events/``.

The client authenticates with its first message, ``{"type": "auth", "token": "<access>"}``: the
token never travels in the URL, so it is not in proxy or server logs. A bad, expired or missing
token closes the socket with code 4401, and so does the access token's expiry during the
connection (send a fresh ``auth`` message before then to keep the socket open). No cookie or
session is read, so a page on another site cannot ride on a logged-in browser.

Then the server sends ``{"type": "auth.ok", "data": {"user_id", "expires_at"}}`` and, from then
on, the caller's events ``{"type": "dose.due" | "dose.updated" | "insight.ready" | "stock.low",
"data": {...}}``. Anything the client sends after authenticating other than ``auth`` is ignored.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from accounts.authentication import JWTAuthentication
from accounts.models import AccessResource
from accounts.services import doctor_access_record
from core import parsers
from notifications import live

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
MAX_TOKEN_LENGTH = 4096


def user_for_token(raw: str):
    """(user, expiry as a UTC datetime) for a valid access token, else None: the HTTP API's own
    authentication (signature, expiry, token type, an active user, an unchanged password)."""
    authentication = JWTAuthentication()
    try:
        token = authentication.get_validated_token(raw.encode())
        user = authentication.get_user(token)
    except (InvalidToken, AuthenticationFailed, TokenError):
        return None
    expires_at = datetime.datetime.fromtimestamp(int(token["exp"]), tz=datetime.UTC)
    return user, expires_at


class EventsConsumer(AsyncJsonWebsocketConsumer):
    user_id: int | None = None
    is_doctor: bool = False

    async def connect(self) -> None:
        self.timers: dict[str, asyncio.Task] = {}
        await self.accept()
        self._schedule("auth", settings.WEBSOCKET_AUTH_TIMEOUT_SECONDS)

    async def disconnect(self, code: int) -> None:
        for timer in self.timers.values():
            timer.cancel()
        if self.user_id is not None:
            await self.channel_layer.group_discard(live.group_name(self.user_id), self.channel_name)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return parsers.loads(text_data)  # bounded depth, like every JSON body
        except ValueError:
            return None

    async def receive_json(self, content: Any, **kwargs) -> None:
        is_auth = isinstance(content, dict) and content.get("type") == "auth"
        if not is_auth:
            if self.user_id is None:
                await self._refuse()
            return
        token = content.get("token")
        found = None
        if isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_LENGTH:
            found = await database_sync_to_async(user_for_token)(token)
        if found is None or (self.user_id is not None and found[0].pk != self.user_id):
            await self._refuse()
            return
        user, expires_at = found
        if self.user_id is None:
            self.user = user
            self.user_id = user.pk
            self.is_doctor = user.is_doctor
            await self.channel_layer.group_add(live.group_name(user.pk), self.channel_name)
            live.ensure_relay()
        self._cancel("auth")
        remaining = (expires_at - datetime.datetime.now(tz=datetime.UTC)).total_seconds()
        self._schedule("expiry", max(remaining, 0.0))
        await self.send_json({"type": "auth.ok", "data": {"user_id": user.pk, "expires_at": expires_at.isoformat()}})

    async def live_event(self, message: dict[str, Any]) -> None:
        """A group message from ``notifications.live.publish``."""
        if self.user_id is None:
            return
        event = message["event"]
        if self.is_doctor:
            if event["type"] != "dose.updated":
                return
            # Like every doctor read of a patient's data, the delivery is in the patient's log.
            await database_sync_to_async(doctor_access_record)(
                doctor=self.user, patient_ids=[event["data"]["patient"]], resource=AccessResource.MEDICATIONS
            )
        await self.send_json(event)

    async def _refuse(self) -> None:
        for timer in self.timers.values():
            timer.cancel()
        await self.close(code=CLOSE_UNAUTHORIZED)

    def _schedule(self, name: str, seconds: float) -> None:
        self._cancel(name)

        async def close_later() -> None:
            await asyncio.sleep(seconds)
            await self.close(code=CLOSE_UNAUTHORIZED)

        self.timers[name] = asyncio.ensure_future(close_later())

    def _cancel(self, name: str) -> None:
        timer = self.timers.pop(name, None)
        if timer is not None:
            timer.cancel()
