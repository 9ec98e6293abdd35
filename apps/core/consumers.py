"""WebSocket consumers: authenticate, check permission, join a group, relay what is pushed."""

from __future__ import annotations

from typing import Any, ClassVar

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .live import JOBS_GROUP
from .permissions import VIEW_JOB

# Close codes a browser can tell apart: 4401 not signed in, 4403 not allowed.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class ShopConsumer(AsyncJsonWebsocketConsumer):
    """Base consumer: subclasses set `required_permission` and `groups_to_join`."""

    required_permission: ClassVar[str] = ""
    groups_to_join: ClassVar[tuple[str, ...]] = ()

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        allowed = await database_sync_to_async(user.has_perm)(self.required_permission)
        if not self.required_permission or not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        for group in self.groups_to_join:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in self.groups_to_join:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def relay(self, message: dict[str, Any]) -> None:
        await self.send_json({"event": message["event"], "data": message["data"]})


class JobProgressConsumer(ShopConsumer):
    """Live progress of background jobs for the jobs page."""

    required_permission = VIEW_JOB
    groups_to_join = (JOBS_GROUP,)
