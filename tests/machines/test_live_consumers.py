"""Live machine state over WebSockets: who may watch, snapshot then deltas, resync, TV tokens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import time, timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from apps.machines.machine_state import Reading
from apps.machines.models import WorkCenter
from apps.machines.routing import websocket_urlpatterns
from apps.machines.services import apply_readings, create_display_token, revoke_display_tokens

from .shop import laser, shift_calendar, work_center

application = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
TIMEOUT = 5


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(scenario)()


def communicator(path: str, user: Any = None) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, path)
    socket.scope["user"] = user if user is not None else AnonymousUser()
    return socket


def readings(code: str, *pairs: tuple[str, Any]) -> list[Reading]:
    now = timezone.now()
    return [Reading(code, now, metric, value) for metric, value in pairs]


@pytest.fixture
def shop(db: Any) -> dict[str, WorkCenter]:
    # Around the clock, so that the wall-clock time the test runs at is always working time.
    shift_calendar("24/7", [(day, time(0), time(0), []) for day in range(7)], plant_default=True)
    one = laser("WC-1")
    two = laser("WC-2")
    other = work_center("BRAKE-1")
    return {"one": one, "two": two, "other": other}


@pytest.fixture
def personas(make_user: Callable[..., Any]) -> dict[str, Any]:
    """Only the people these tests need: fewer users make the transactional tests faster."""
    return {
        "operator": make_user("operator", "operator"),
        "supervisor": make_user("supervisor", "supervisor"),
        "outsider": make_user("outsider"),
    }


@pytest.mark.django_db(transaction=True)
def test_anonymous_4401_outsider_4403_unknown_4404(shop: dict[str, WorkCenter], personas: dict[str, Any]) -> None:
    async def scenario() -> None:
        for path, user, code in [
            ("/ws/machines/plant/", None, 4401),
            ("/ws/machines/plant/", personas["outsider"], 4403),
            (f"/ws/machines/work-centers/{shop['one'].pk}/", personas["outsider"], 4403),
            (f"/ws/machines/departments/{shop['one'].department_id}/", None, 4401),
            ("/ws/machines/work-centers/999999/", personas["operator"], 4404),
            ("/ws/machines/departments/999999/", personas["operator"], 4404),
        ]:
            socket = communicator(path, user)
            connected, close_code = await socket.connect(timeout=TIMEOUT)
            assert (path, connected, close_code) == (path, False, code)

    run(scenario)


@pytest.mark.django_db(transaction=True)
def test_snapshot_then_delta_then_resync(shop: dict[str, WorkCenter], personas: dict[str, Any]) -> None:
    one, two = shop["one"], shop["two"]

    async def scenario() -> None:
        socket = communicator(f"/ws/machines/departments/{one.department_id}/", personas["operator"])
        connected, _ = await socket.connect(timeout=TIMEOUT)
        assert connected
        snapshot = await socket.receive_json_from(timeout=TIMEOUT)
        assert snapshot["event"] == "snapshot"
        assert snapshot["version"] == 0
        assert [(m["code"], m["state"], m["version"]) for m in snapshot["data"]["machines"]] == [
            ("WC-1", "offline", 0),
            ("WC-2", "offline", 0),
        ]

        await sync_to_async(apply_readings)(readings("WC-1", ("execution", "ACTIVE"), ("program", "O77")))
        delta = await socket.receive_json_from(timeout=TIMEOUT)
        assert (delta["event"], delta["version"]) == ("delta", 1)
        data = delta["data"]
        assert (data["id"], data["code"], data["state"], data["program"], data["version"]) == (
            one.pk,
            "WC-1",
            "running",
            "O77",
            1,
        )
        # Another department's machine is not sent here.
        await sync_to_async(apply_readings)(readings("BRAKE-1", ("execution", "ACTIVE")))
        assert await socket.receive_nothing(timeout=0.2)

        await socket.send_json_to({"action": "resync"})
        again = await socket.receive_json_from(timeout=TIMEOUT)
        assert again["event"] == "snapshot"
        assert [(m["code"], m["state"], m["version"]) for m in again["data"]["machines"]] == [
            ("WC-1", "running", 1),
            ("WC-2", "offline", 0),
        ]
        await socket.disconnect()

        # Changes made while disconnected arrive in the snapshot of the next connection.
        await sync_to_async(apply_readings)(readings("WC-2", ("state", "setup")))
        back = communicator(f"/ws/machines/departments/{one.department_id}/", personas["operator"])
        connected, _ = await back.connect(timeout=TIMEOUT)
        assert connected
        resynced = await back.receive_json_from(timeout=TIMEOUT)
        assert resynced["event"] == "snapshot"
        assert resynced["version"] == 1
        assert [(m["code"], m["state"], m["version"]) for m in resynced["data"]["machines"]] == [
            ("WC-1", "running", 1),
            ("WC-2", "setup", 1),
        ]
        await back.disconnect()

    run(scenario)
    assert two.pk != one.pk


@pytest.mark.django_db(transaction=True)
def test_machine_and_plant_groups(shop: dict[str, WorkCenter], personas: dict[str, Any]) -> None:
    async def scenario() -> None:
        machine = communicator(f"/ws/machines/work-centers/{shop['two'].pk}/", personas["supervisor"])
        plant = communicator("/ws/machines/plant/", personas["supervisor"])
        assert (await machine.connect(timeout=TIMEOUT))[0]
        assert (await plant.connect(timeout=TIMEOUT))[0]
        first = await machine.receive_json_from(timeout=TIMEOUT)
        assert [m["code"] for m in first["data"]["machines"]] == ["WC-2"]
        everything = await plant.receive_json_from(timeout=TIMEOUT)
        assert sorted(m["code"] for m in everything["data"]["machines"]) == ["BRAKE-1", "WC-1", "WC-2"]

        await sync_to_async(apply_readings)(readings("WC-1", ("alarm", "E5")))
        delta = await plant.receive_json_from(timeout=TIMEOUT)
        assert (delta["data"]["code"], delta["data"]["state"], delta["data"]["alarms"]) == (
            "WC-1",
            "alarm",
            [{"source": "alarm", "code": "E5", "level": "fault"}],
        )
        assert await machine.receive_nothing(timeout=0.2)
        await machine.disconnect()
        await plant.disconnect()

    run(scenario)


@pytest.mark.django_db(transaction=True)
def test_tv_display_token_valid_then_revoked(shop: dict[str, WorkCenter]) -> None:
    token, secret = create_display_token(department=shop["one"].department, name="Laser TV", user=None)

    async def scenario() -> None:
        tv = communicator(f"/ws/machines/display/{secret}/")
        connected, _ = await tv.connect(timeout=TIMEOUT)
        assert connected
        snapshot = await tv.receive_json_from(timeout=TIMEOUT)
        assert [m["code"] for m in snapshot["data"]["machines"]] == ["WC-1", "WC-2"]
        await sync_to_async(apply_readings)(readings("WC-2", ("execution", "ACTIVE")))
        delta = await tv.receive_json_from(timeout=TIMEOUT)
        assert (delta["data"]["code"], delta["data"]["state"]) == ("WC-2", "running")
        await tv.disconnect()

        wrong = communicator("/ws/machines/display/not-a-token/")
        assert await wrong.connect(timeout=TIMEOUT) == (False, 4403)

        await sync_to_async(revoke_display_tokens)(token_ids=[token.pk], user=None)
        revoked = communicator(f"/ws/machines/display/{secret}/")
        assert await revoked.connect(timeout=TIMEOUT) == (False, 4403)

    run(scenario)


@pytest.mark.django_db(transaction=True)
def test_silent_machine_shows_offline_in_the_snapshot_before_the_task_runs(
    shop: dict[str, WorkCenter], personas: dict[str, Any]
) -> None:
    apply_readings([Reading("WC-1", timezone.now() - timedelta(minutes=10), "execution", "ACTIVE")])

    async def scenario() -> None:
        socket = communicator(f"/ws/machines/work-centers/{shop['one'].pk}/", personas["operator"])
        assert (await socket.connect(timeout=TIMEOUT))[0]
        snapshot = await socket.receive_json_from(timeout=TIMEOUT)
        (machine,) = snapshot["data"]["machines"]
        assert (machine["state"], machine["version"]) == ("offline", 1)
        await socket.disconnect()

    run(scenario)
