"""Live machine state over WebSockets: the plant, one department, one machine, and a department's
TV display (by display token, no login).

On connect each sends a full snapshot, then relays deltas. Every message carries a version; a
client that sees a gap, or reconnects, sends `{"action": "resync"}` and gets a fresh snapshot.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from apps.core.consumers import CLOSE_FORBIDDEN, ShopConsumer

from .live import PLANT_GROUP, department_group, machine_group
from .models import Department, WorkCenter
from .selectors import live_machines
from .services import display_for_token

VIEW_WORK_CENTER = "machines.view_workcenter"
CLOSE_NOT_FOUND = 4404


class LiveStateConsumer(ShopConsumer):
    """Base: ShopConsumer authenticates and checks the permission, then `accept` joins the groups
    of what the URL names and sends the snapshot."""

    required_permission = VIEW_WORK_CENTER

    joined: tuple[str, ...] = ()

    async def live_groups(self) -> tuple[str, ...] | None:
        """The groups to join, or None when what the URL names does not exist."""
        return (PLANT_GROUP,)

    def snapshot_filter(self) -> dict[str, int]:
        return {}

    async def accept(self, subprotocol: str | None = None, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        groups = await self.live_groups()
        if groups is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await super().accept(subprotocol, headers)
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined = groups
        await self.send_snapshot()

    async def disconnect(self, code: int) -> None:
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        await super().disconnect(code)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("action") == "resync":
            await self.send_snapshot()

    async def send_snapshot(self) -> None:
        machines = await database_sync_to_async(live_machines)(**self.snapshot_filter())
        for machine in machines:
            machine.pop("since_dt", None)
        version = max((m["version"] for m in machines), default=0)
        await self.send_json({"event": "snapshot", "version": version, "data": {"machines": machines}})

    async def live_delta(self, message: dict[str, Any]) -> None:
        await self.send_json({"event": "delta", "version": message["version"], "data": message["data"]})


class PlantLiveConsumer(LiveStateConsumer):
    """Every machine of the plant, for the status grid."""


class DepartmentLiveConsumer(LiveStateConsumer):
    async def live_groups(self) -> tuple[str, ...] | None:
        department_id = int(self.scope["url_route"]["kwargs"]["department_id"])
        exists = await database_sync_to_async(Department.objects.filter(pk=department_id).exists)()
        return (department_group(department_id),) if exists else None

    def snapshot_filter(self) -> dict[str, int]:
        return {"department_id": int(self.scope["url_route"]["kwargs"]["department_id"])}


class MachineLiveConsumer(LiveStateConsumer):
    async def live_groups(self) -> tuple[str, ...] | None:
        work_center_id = int(self.scope["url_route"]["kwargs"]["work_center_id"])
        exists = await database_sync_to_async(WorkCenter.objects.filter(pk=work_center_id).exists)()
        return (machine_group(work_center_id),) if exists else None

    def snapshot_filter(self) -> dict[str, int]:
        return {"work_center_id": int(self.scope["url_route"]["kwargs"]["work_center_id"])}


class DisplayLiveConsumer(LiveStateConsumer):
    """A department's TV: the display token in the URL is the only credential; a revoked or
    unknown one is refused with 4403, and a revoked token also ends the screen's next reconnect."""

    department_id: int = 0

    async def connect(self) -> None:
        token = await database_sync_to_async(display_for_token)(str(self.scope["url_route"]["kwargs"]["token"]))
        if token is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.department_id = token.department_id
        await self.accept()

    async def live_groups(self) -> tuple[str, ...] | None:
        return (department_group(self.department_id),)

    def snapshot_filter(self) -> dict[str, int]:
        return {"department_id": self.department_id}
