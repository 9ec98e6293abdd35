"""Job progress is pushed over WebSockets to people allowed to see it, after the data is committed."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from apps.core import services
from apps.core.routing import websocket_urlpatterns

application = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))


async def connect(user: Any) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/background-jobs/")
    communicator.scope["user"] = user
    return communicator


@pytest.mark.django_db(transaction=True)
def test_supervisor_receives_progress_and_outsider_is_refused(personas: dict[str, Any]) -> None:
    from asgiref.sync import async_to_sync

    async def scenario() -> None:
        watcher = await connect(personas["supervisor"])
        connected, _ = await watcher.connect()
        assert connected
        job = await sync_to_async(services.create_job)(kind="routings.import", name="Import jobs.xlsx")
        await sync_to_async(services.start_job)(job_id=job.pk)
        message = await watcher.receive_json_from(timeout=5)
        assert message["event"] == "job"
        assert message["data"]["id"] == job.pk and message["data"]["status"] == "running"
        await watcher.disconnect()

        outsider = await connect(personas["outsider"])
        connected, code = await outsider.connect()
        assert (connected, code) == (False, 4403)

        from django.contrib.auth.models import AnonymousUser

        anonymous = await connect(AnonymousUser())
        connected, code = await anonymous.connect()
        assert (connected, code) == (False, 4401)

    async_to_sync(scenario)()
