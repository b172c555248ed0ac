"""A local fake push service (RFC 8030) and a fake browser subscription (RFC 8291 keys).

The service listens on 127.0.0.1, records every request, answers with the status its test sets
per path, and the browser side decrypts a message with ``http_ece`` and checks the VAPID
signature (RFC 8292) the way a real push service and browser do.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

PORTS = range(9550, 9600)  # this branch's share of the machine's ports


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeBrowser:
    """The keys a browser makes for one subscription."""

    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def decrypt(self, message: Received) -> dict:
        assert message.headers.get("content-encoding") == "aes128gcm"
        plain = http_ece.decrypt(
            message.body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )
        return json.loads(plain)


def verify_vapid(message: Received, *, audience: str) -> dict:
    """Check the ``Authorization: vapid t=<JWT>, k=<key>`` header; returns the JWT claims."""
    scheme, _, params = message.headers["authorization"].partition(" ")
    assert scheme.lower() == "vapid"
    values = dict(part.strip().split("=", 1) for part in params.split(","))
    header_b64, claims_b64, signature_b64 = values["t"].split(".")
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(values["k"]))
    raw = unb64url(signature_b64)
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.verify(signature, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
    assert json.loads(unb64url(header_b64))["alg"] == "ES256"
    claims = json.loads(unb64url(claims_b64))
    assert claims["aud"] == audience
    claims["k"] = values["k"]
    return claims


class FakePushService:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status_for: dict[str, int] = {}
        self.headers_for: dict[str, dict[str, str]] = {}
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def endpoint(self, path: str) -> str:
        return f"{self.origin}/push/{path}"

    def start(self) -> None:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with service.lock:
                    service.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    status = service.status_for.get(self.path, 201)
                    extra = service.headers_for.get(self.path, {})
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        last_error: OSError | None = None
        for port in PORTS:
            try:
                self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
                break
            except OSError as exc:
                last_error = exc
        else:
            raise RuntimeError(f"no free port in {PORTS}: {last_error}")
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def messages(self, path: str | None = None) -> list[Received]:
        with self.lock:
            return [m for m in self.received if path is None or m.path == path]
