"""Walk every route and every GraphQL mutation as every role and compare with docs/permissions.md.

A route that declares no access fails here: deny by default.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.accounts.matrix import ADMIN_SITE, SIGN_IN_PAGES, UNDECLARED, graphql_mutations, role_has, routes
from apps.accounts.roles import ROLES
from apps.core.permissions import AUTHENTICATED, PUBLIC
from apps.core.testing import OUTSIDER, first_error_code, graphql, verified_client

# Arguments that make each mutation valid enough to reach its permission check. A mutation
# missing here fails the test: add it with its sample arguments.
MUTATION_SAMPLES: dict[str, str] = {
    "cancelBackgroundJob": 'cancelBackgroundJob(id: "999999") { job { id } }',
    "setTheme": 'setTheme(theme: "dark") { theme }',
    "releaseJob": 'releaseJob(id: "999999") { job { id } }',
    "holdJob": 'holdJob(id: "999999", reason: "no sheet") { job { id } }',
    "resumeJob": 'resumeJob(id: "999999") { job { id } }',
    "cancelJob": 'cancelJob(id: "999999", reason: "dropped") { job { id } }',
    "splitJob": 'splitJob(id: "999999", quantity: 1) { job { id } newJob { id } }',
    "startPlanningRun": "startPlanningRun(horizonDays: 0) { schedule { id } }",
    "publishSchedule": 'publishSchedule(id: "999999") { schedule { id } }',
    "moveScheduleSlot": 'moveScheduleSlot(id: "999999", workCenter: "1", start: "2026-01-05T06:00:00+00:00") '
    "{ slot { id } conflicts { kind message } }",
    "requestReportRun": 'requestReportRun(report: "no-such-report", firstDay: "2026-01-05", lastDay: "2026-01-04") '
    "{ run { id } }",
}

ALL_ROUTES = routes()


def _denied(response: Any) -> bool:
    if response.status_code in (401, 403):
        return True
    location = response.get("Location", "")
    return response.status_code == 302 and ("/accounts/login/" in location or "/admin/login/" in location)


@pytest.fixture
def clients(personas: dict[str, Any]) -> dict[str, Any]:
    built = {role: verified_client(user, Client) for role, user in personas.items()}
    built["anonymous"] = Client()
    return built


def test_every_route_declares_its_access() -> None:
    undeclared = [f"/{r.pattern} ({r.name})" for r in ALL_ROUTES if r.access == UNDECLARED]
    assert undeclared == []


@pytest.mark.parametrize(
    "route", [r for r in ALL_ROUTES if r.access not in (ADMIN_SITE, SIGN_IN_PAGES)], ids=lambda r: r.sample_path
)
def test_route_access_matches_matrix(route: Any, clients: dict[str, Any]) -> None:
    for who, client in clients.items():
        response = getattr(client, route.method)(route.sample_path)
        assert response.status_code < 500, f"{who} {route.sample_path}: {response.status_code}"
        if who == "anonymous":
            expected_allowed = route.access == PUBLIC
        elif who == OUTSIDER:
            expected_allowed = route.access in (PUBLIC, AUTHENTICATED)
        else:
            expected_allowed = role_has(who, route.access)
        assert _denied(response) != expected_allowed, (
            f"{who} on {route.sample_path} (needs {route.access}): got {response.status_code}"
        )


def test_admin_site_follows_staff_roles_and_model_permissions(clients: dict[str, Any]) -> None:
    from django.contrib import admin

    for who, client in clients.items():
        index = client.get("/admin/")
        staff = who in ("production_manager", "admin")
        assert (index.status_code == 200) == staff, f"{who}: {index.status_code}"
        for model in admin.site._registry:
            url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            response = client.get(url)
            if not staff:
                assert _denied(response), f"{who} reached {url}"
                continue
            perms = {f"{model._meta.app_label}.{verb}_{model._meta.model_name}" for verb in ("view", "change")}
            allowed = any(role_has(who, perm) for perm in perms)
            assert (response.status_code == 200) == allowed, f"{who} {url}: {response.status_code}"


def test_admin_needs_a_verified_second_factor(personas: dict[str, Any]) -> None:
    client = Client()
    client.force_login(personas["admin"])
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/")


def test_sign_in_pages_never_fail(clients: dict[str, Any]) -> None:
    for route in [
        r for r in ALL_ROUTES if r.access == SIGN_IN_PAGES and "<" not in r.pattern and "(?P" not in r.pattern
    ]:
        for who in ("anonymous", "operator", "supervisor"):
            response = clients[who].get(route.sample_path)
            assert response.status_code < 500, f"{who} {route.sample_path}: {response.status_code}"
            assert response.status_code != 403, f"{who} {route.sample_path}"


def test_every_mutation_has_a_sample() -> None:
    assert sorted(graphql_mutations()) == sorted(MUTATION_SAMPLES)


@pytest.mark.parametrize("name", sorted(MUTATION_SAMPLES))
def test_mutation_access_matches_matrix(name: str, clients: dict[str, Any]) -> None:
    access = graphql_mutations()[name]
    for who in [*ROLES, OUTSIDER, "anonymous"]:
        result = graphql(clients[who], f"mutation {{ {MUTATION_SAMPLES[name]} }}")
        code = first_error_code(result)
        if who == "anonymous":
            allowed = access == PUBLIC
        elif who == OUTSIDER:
            allowed = access in (PUBLIC, AUTHENTICATED)
        else:
            allowed = role_has(who, access)
        refused = code in ("FORBIDDEN", "UNAUTHENTICATED")
        assert refused != allowed, f"{who} {name}: {result}"


def test_docs_permissions_md_is_current(db: Any) -> None:
    from pathlib import Path

    from django.conf import settings

    from apps.accounts.matrix import render_markdown

    assert (Path(settings.BASE_DIR) / "docs" / "permissions.md").read_text() == render_markdown(), (
        "docs/permissions.md is out of date: run `python manage.py permission_matrix`"
    )
