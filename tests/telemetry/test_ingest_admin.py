"""The telemetry admin: read-only lists, a readable dead-letter payload, and the replay action."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.core.testing import verified_client
from apps.telemetry.ingest import MessageDecoder, ingest_payloads
from apps.telemetry.models import DeadLetter, Sample
from tests.machines.shop import work_center

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC).replace(microsecond=0)
PAYLOAD = b'{"seq": 1, "ts": "2026-11-20T08:00:00Z", "value": 2.5}'


@pytest.fixture
def admin_client(make_user: Callable[..., Any]) -> Client:
    return verified_client(make_user("root", is_staff=True, is_superuser=True), Client)


@pytest.mark.parametrize("model", ["sample", "sampleblock", "hourlyrollup", "streamgap", "deadletter"])
def test_every_telemetry_list_opens_and_offers_no_add(admin_client: Client, model: str) -> None:
    response = admin_client.get(reverse(f"admin:telemetry_{model}_changelist"))
    assert response.status_code == 200
    assert admin_client.get(reverse(f"admin:telemetry_{model}_add")).status_code == 403


def test_a_dead_letter_shows_its_payload_and_cannot_be_edited(admin_client: Client) -> None:
    ingest_payloads([("shopfloor/milling/WC-404/load", PAYLOAD)], decoder=MessageDecoder(), received_at=NOW)
    letter = DeadLetter.objects.get()
    url = reverse("admin:telemetry_deadletter_change", args=[letter.pk])

    page = admin_client.get(url).content.decode()

    assert (
        "<pre>{&quot;seq&quot;: 1, &quot;ts&quot;: &quot;2026-11-20T08:00:00Z&quot;, &quot;value&quot;: 2.5}</pre>"
        in page
    )
    assert "unknown_machine" in page
    assert admin_client.post(url, {"reason": "edited"}).status_code == 403
    letter.refresh_from_db()
    assert letter.reason == "unknown_machine"


def test_the_replay_action_stores_what_now_decodes(admin_client: Client) -> None:
    ingest_payloads(
        [("shopfloor/milling/WC-404/load", PAYLOAD), ("shopfloor/milling/WC-405/load", PAYLOAD)],
        decoder=MessageDecoder(),
        received_at=NOW,
    )
    work_center("WC-404")
    selected = list(DeadLetter.objects.values_list("pk", flat=True))

    response = admin_client.post(
        reverse("admin:telemetry_deadletter_changelist"),
        {"action": "replay", "_selected_action": selected},
        follow=True,
    )

    content = response.content.decode()
    assert "1 message stored." in content
    assert "1 message still fails; its reason is updated." in content
    assert list(DeadLetter.objects.values_list("topic", "reason")) == [
        ("shopfloor/milling/WC-405/load", "unknown_machine")
    ]
    assert list(Sample.objects.values_list("metric", "value_number")) == [("load", 2.5)]
