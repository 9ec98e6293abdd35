"""Print a new VAPID key pair for Web Push, as environment lines for production."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management.base import BaseCommand

from apps.core.notifications import encode_private_key, public_key_b64url


class Command(BaseCommand):
    help = (
        "Print a new VAPID key pair (base64url raw keys) to put in WEBPUSH_VAPID_PRIVATE_KEY and "
        "WEBPUSH_VAPID_PUBLIC_KEY. Changing the pair makes every browser subscribe again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        private = ec.generate_private_key(ec.SECP256R1())
        public = private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.stdout.write(f"WEBPUSH_VAPID_PRIVATE_KEY={encode_private_key(private)}")
        self.stdout.write(f"WEBPUSH_VAPID_PUBLIC_KEY={public_key_b64url(public)}")
