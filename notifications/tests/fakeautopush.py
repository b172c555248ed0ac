"""A local push service that a real Firefox subscribes to: Mozilla's push protocol on one side,
RFC 8030 message delivery on the other.

Firefox keeps a WebSocket open to its push service (``dom.push.serverURL``) and speaks a small
JSON protocol on it (``hello``, ``register``, ``notification``, ``ack``); a subscription's
endpoint is a URL of that service, which an application server POSTs encrypted messages to
(RFC 8030, RFC 8291). This fake is both: the WebSocket side for the browser, and an HTTP side
that relays each POSTed body, untouched, to the browser as a ``notification``. The browser
decrypts it with the keys it made for the subscription and wakes the service worker, exactly as
with Mozilla's service, so the payload MediTrack encrypted is checked end to end by a browser.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import websockets


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Delivery:
    channel_id: str
    headers: dict[str, str]
    size: int


@dataclass
class FakeAutopush:
    """Start with :meth:`start`; ``server_url`` is the browser's ``dom.push.serverURL``."""

    host: str = "127.0.0.1"
    registered: dict[str, str] = field(default_factory=dict)  # channel id -> application server key
    deliveries: list[Delivery] = field(default_factory=list)
    acks: list[dict] = field(default_factory=list)
    hello: threading.Event = field(default_factory=threading.Event)

    def start(self) -> FakeAutopush:
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        self._browser = None

        async def serve() -> None:
            self._ws = await websockets.serve(self._session, self.host, 0, subprotocols=["push-notification"])
            self.ws_port = self._ws.sockets[0].getsockname()[1]
            started.set()
            await self._ws.wait_closed()

        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(serve(),), daemon=True)
        self._thread.start()
        started.wait(10)

        push = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # an application server delivering a message (RFC 8030)
                channel_id = self.path.rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if channel_id not in push.registered or push._browser is None:
                    self.send_response(410)
                    self.end_headers()
                    return
                push.deliveries.append(Delivery(channel_id, {k.lower(): v for k, v in self.headers.items()}, len(body)))
                message = {
                    "messageType": "notification",
                    "channelID": channel_id,
                    "version": uuid.uuid4().hex,
                    "data": _b64url(body),
                    "headers": {"encoding": self.headers.get("Content-Encoding", "aes128gcm")},
                }
                asyncio.run_coroutine_threadsafe(push._browser.send(json.dumps(message)), push._loop).result(10)
                self.send_response(201)
                self.send_header("Location", f"/messages/{message['version']}")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._http = ThreadingHTTPServer((self.host, 0), Handler)
        self.http_port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    @property
    def server_url(self) -> str:
        return f"ws://{self.host}:{self.ws_port}/"

    def endpoint(self, channel_id: str) -> str:
        return f"http://{self.host}:{self.http_port}/wpush/v2/{channel_id}"

    async def _session(self, websocket) -> None:
        uaid = uuid.uuid4().hex
        async for raw in websocket:
            message = json.loads(raw)
            kind = message.get("messageType")
            if kind == "hello":
                self._browser = websocket
                await websocket.send(
                    json.dumps({"messageType": "hello", "status": 200, "uaid": uaid, "use_webpush": True})
                )
                self.hello.set()
            elif kind == "register":
                channel_id = message["channelID"]
                self.registered[channel_id] = message.get("key", "")
                reply = {"messageType": "register", "status": 200, "channelID": channel_id, "uaid": uaid}
                reply["pushEndpoint"] = self.endpoint(channel_id)
                await websocket.send(json.dumps(reply))
            elif kind == "unregister":
                self.registered.pop(message.get("channelID"), None)
                await websocket.send(
                    json.dumps({"messageType": "unregister", "status": 200, "channelID": message.get("channelID")})
                )
            elif kind == "ack":
                self.acks.extend(message.get("updates", []))
            elif kind in ("ping", None):
                await websocket.send("{}")

    def stop(self) -> None:
        self._http.shutdown()
        self._loop.call_soon_threadsafe(self._ws.close)
        self._thread.join(10)
