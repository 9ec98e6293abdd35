from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from apps.accounts.adapters import ShopSocialAccountAdapter
from apps.accounts.models import ApiToken, User
from apps.accounts.roles import ROLE_PERMISSIONS, ROLES
from apps.accounts.services import create_role_groups, resolve_permissions, roles_from_claims
from apps.core.testing import ResourceContract, graphql, verified_client


class TestUserAPI(ResourceContract):
    basename = "accounts-user"
    allowed_role = "production_manager"
    denied_role = "supervisor"
    graphql_list = "users"
    graphql_fields = "id username roles"
    filter_case = ("is_active", "false")

    def make_object(self, index: int) -> User:
        return User.objects.create_user(
            username=f"welder{index}",
            first_name="Ana",
            last_name=f"Weld{index}",
            email=f"w{index}@shop.test",
            is_active=index != 1,
        )

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "username": obj.username,
            "first_name": "Ana",
            "last_name": obj.last_name,
            "email": obj.email,
            "is_active": obj.is_active,
            "roles": [],
            "theme": "system",
            "language": "",
            "last_login": None,
            "date_joined": obj.date_joined.isoformat().replace("+00:00", "Z"),
        }


def test_role_groups_are_idempotent_and_exact(db: Any) -> None:
    first = create_role_groups()
    group = Group.objects.get(name="supervisor")
    group.permissions.add(*resolve_permissions(["accounts.delete_user"]))
    second = create_role_groups()
    assert first == second
    assert Group.objects.filter(name__in=ROLES).count() == len(ROLES)
    names = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert names == set(ROLE_PERMISSIONS["supervisor"])


def test_every_permission_in_the_matrix_exists(db: Any) -> None:
    for role, permissions in ROLE_PERMISSIONS.items():
        assert len(resolve_permissions(permissions)) == len(permissions), role


def test_create_role_groups_command(db: Any, capsys: Any) -> None:
    from django.core.management import call_command

    call_command("create_role_groups")
    call_command("create_role_groups")
    out = capsys.readouterr().out
    assert out.count(f"supervisor: {len(ROLE_PERMISSIONS['supervisor'])} permissions") == 2


def test_demo_users_print_passwords_once(db: Any, capsys: Any) -> None:
    from django.core.management import call_command

    call_command("create_demo_users")
    first = capsys.readouterr().out
    call_command("create_demo_users")
    second = capsys.readouterr().out
    assert "production_manager   production-manager-demo" in first
    assert "demo" not in second.split(";")[0] or "already exist" in second
    assert User.objects.get(username="production_manager").is_staff is True
    assert User.objects.get(username="operator").is_staff is False
    assert Client().login(username="planner", password="planner-demo")


def test_roles_from_claims() -> None:
    role_map = {"MES-Operators": "operator", "MES-Planners": "planner", "MES-Managers": "production_manager"}
    assert roles_from_claims({"groups": ["MES-Planners", "Finance", "MES-Operators"]}, "groups", role_map) == [
        "operator",
        "planner",
    ]
    assert roles_from_claims({"roles": "MES-Managers"}, "roles", role_map) == ["production_manager"]
    assert roles_from_claims({}, "groups", role_map) == []


def test_sso_sign_in_syncs_roles_from_the_configured_claim(personas: dict[str, Any], settings: Any) -> None:
    settings.OIDC_ROLE_CLAIM = "groups"
    settings.OIDC_ROLE_MAP = {"mes-supervisors": "supervisor"}
    user = personas["operator"]
    sociallogin = SimpleNamespace(
        is_existing=True,
        user=user,
        account=SimpleNamespace(extra_data={"id_token": {"sub": "1"}, "userinfo": {"groups": ["mes-supervisors"]}}),
    )
    ShopSocialAccountAdapter().pre_social_login(None, sociallogin)  # type: ignore[arg-type]
    user.refresh_from_db()
    assert [g.name for g in user.groups.all()] == ["supervisor"]
    assert user.requires_two_factor is True


def test_sso_provider_button_from_environment(db: Any, settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "entra",
                    "name": "Microsoft Entra ID",
                    "client_id": "abc",
                    "secret": "s",
                    "settings": {"server_url": "https://login.microsoftonline.com/tenant/v2.0"},
                }
            ]
        }
    }
    page = Client().get("/accounts/login/").content.decode()
    assert "Microsoft Entra ID" in page
    assert 'action="/accounts/oidc/entra/login/?process=login"' in page


def test_open_sign_up_is_closed(db: Any) -> None:
    response = Client().post(
        "/accounts/signup/", {"username": "x", "email": "x@x.test", "password1": "Zx!9" * 4, "password2": "Zx!9" * 4}
    )
    assert User.objects.filter(username="x").count() == 0
    assert response.status_code == 200
    assert "Sign Up Closed" in response.content.decode()


def test_theme_is_remembered_per_user(personas: dict[str, Any]) -> None:
    client = verified_client(personas["supervisor"], Client)
    assert (
        client.post("/accounts/preferences/theme/", {"theme": "dark"}, headers={"HX-Request": "true"}).status_code
        == 204
    )
    assert 'data-theme="dark"' in client.get("/").content.decode()
    assert client.post("/accounts/preferences/theme/", {"theme": "neon"}).status_code == 400
    personas["supervisor"].refresh_from_db()
    assert personas["supervisor"].theme == "dark"
    result = graphql(verified_client(personas["operator"]), 'mutation { setTheme(theme: "light") { theme } }')
    assert result["data"]["setTheme"]["theme"] == "light"


def test_language_switch_to_spanish(personas: dict[str, Any]) -> None:
    client = verified_client(personas["operator"], Client)
    response = client.post("/accounts/preferences/language/", {"language": "es", "next": "/"})
    assert response.status_code == 302
    personas["operator"].refresh_from_db()
    assert personas["operator"].language == "es"
    page = client.get("/").content.decode()
    assert '<html lang="es"' in page
    assert "Cerrar sesión" in page
    anonymous = Client()
    anonymous.post("/accounts/preferences/language/", {"language": "es"})
    assert "Iniciar sesión" in anonymous.get("/accounts/login/").content.decode()
    assert Client().post("/accounts/preferences/language/", {"language": "xx"}).status_code == 400


def test_admin_issues_a_token_shown_once(personas: dict[str, Any]) -> None:
    client = verified_client(personas["admin"], Client)
    response = client.post(
        "/admin/accounts/apitoken/add/",
        {"user": personas["operator"].pk, "name": "laser bay gateway", "valid_days": 30},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    match = re.search(r"it will not be shown again: (cnc_\w+)", text)
    assert match, text[:2000]
    token = ApiToken.objects.get(name="laser bay gateway")
    assert token.user == personas["operator"] and token.digest != match.group(1)
    from rest_framework.test import APIClient

    me = APIClient().get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Token {match.group(1)}")
    assert me.json()["username"] == "operator"


def test_user_history_records_role_changes(personas: dict[str, Any]) -> None:
    from apps.accounts.services import assign_roles

    user = personas["operator"]
    assign_roles(actor=personas["admin"], user=user, roles=["quality"])
    assert user.history.count() >= 2


def test_assign_roles_needs_permission(personas: dict[str, Any]) -> None:
    from django.core.exceptions import PermissionDenied

    from apps.accounts.services import assign_roles

    with pytest.raises(PermissionDenied):
        assign_roles(actor=personas["supervisor"], user=personas["operator"], roles=["admin"])
    assert [g.name for g in personas["operator"].groups.all()] == ["operator"]


def test_createsuperuser_works(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-and-unusual-passphrase")
    call_command("createsuperuser", "--noinput", "--username", "boss", "--email", "boss@shop.test")
    boss = User.objects.get(username="boss")
    assert boss.is_superuser and boss.is_staff and boss.requires_two_factor
    assert boss.check_password("a-long-and-unusual-passphrase")
