"""Web Push test doubles: a push service played by an HTTP server on 127.0.0.1, the browser's side of a
subscription (a P-256 key pair and an auth secret, so a test can decrypt what the server sent), and the
server's VAPID key set for a test."""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from apps.core import notifications


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def uncompressed_point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@dataclass
class Received:
    """One request the push service got: its path, headers (lower-case names) and raw body."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    """What the fake push service answers (`status`) and every request it received."""

    url: str
    status: int = 201
    received: list[Received] = field(default_factory=list)


@contextmanager
def running_push_service() -> Iterator[PushService]:
    service = PushService(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            service.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(service.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class BrowserKeys:
    """A browser's side of a subscription: the key pair whose public half it hands out, and its auth secret."""

    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @classmethod
    def new(cls) -> BrowserKeys:
        return cls(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(uncompressed_point(self.private_key.public_key()))

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def decrypt(self, body: bytes) -> bytes:
        """What the browser reads out of an aes128gcm push message (RFC 8291)."""
        return bytes(http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth_secret))


def use_server_key(settings: Any, monkeypatch: pytest.MonkeyPatch) -> ec.EllipticCurvePrivateKey:
    """A fresh VAPID key for the server, http endpoints allowed (the fake service has no TLS), and no
    proxy between requests and 127.0.0.1. Call `notifications.vapid_keys.cache_clear()` after the test."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    private = ec.generate_private_key(ec.SECP256R1())
    settings.WEBPUSH_VAPID_PRIVATE_KEY = notifications.encode_private_key(private)
    settings.WEBPUSH_VAPID_PUBLIC_KEY = ""
    settings.WEBPUSH_CONTACT = "mailto:ops@example.com"
    settings.WEBPUSH_ALLOW_HTTP_ENDPOINTS = True
    notifications.vapid_keys.cache_clear()
    return private
