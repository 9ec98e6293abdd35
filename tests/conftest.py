"""Personas every test can use: one signed-in user per role, and an outsider with no role."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

os.environ.setdefault("CNC_TESTING", "1")
pytest.register_assert_rewrite("apps.core.testing")

from apps.accounts.roles import ROLES  # noqa: E402
from apps.core.testing import OUTSIDER, verified_client  # noqa: E402

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _eager_celery(settings: Any) -> None:
    from cnc_copilot.celery import app

    app.conf.task_always_eager = True
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # Rate limits live in the cache; each test starts with a clean slate.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def role_groups(db: Any) -> None:
    from apps.accounts.services import create_role_groups

    create_role_groups()


@pytest.fixture
def make_user(role_groups: None) -> Callable[..., Any]:
    from apps.accounts.models import User
    from apps.accounts.services import assign_roles

    def make(username: str, *roles: str, **fields: Any) -> User:
        user = User.objects.create_user(username=username, password=PASSWORD, email=f"{username}@example.com", **fields)
        if roles:
            assign_roles(actor=None, user=user, roles=roles)
        return user

    return make


@pytest.fixture
def personas(make_user: Callable[..., Any]) -> dict[str, Any]:
    """A manager, an operator, an outsider who must see nothing — and one user per other role."""
    people = {role: make_user(role, role) for role in ROLES}
    people[OUTSIDER] = make_user(OUTSIDER)
    return people


@pytest.fixture
def client_for(personas: dict[str, Any]) -> Callable[[str], Any]:
    """`client_for("supervisor")`: an API client signed in as that persona, second factor done."""
    cache: dict[str, Any] = {}

    def get(role: str) -> Any:
        if role not in cache:
            cache[role] = verified_client(personas[role])
        return cache[role]

    return get
