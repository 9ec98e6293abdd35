"""What each sign-in path enforces: password, rate limits, second factor, sessions, tokens."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from apps.accounts.models import ApiToken
from apps.accounts.services import deactivate_user
from tests.conftest import PASSWORD

LIMIT_MESSAGE = "Too many failed login attempts. Try again later."


def totp_code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + steps_ahead * device.step
    return f"{totp.token():06d}"


@pytest.fixture
def device(personas: dict[str, Any]) -> TOTPDevice:
    return TOTPDevice.objects.create(user=personas["supervisor"], name="phone", confirmed=True)


def login_form(client: Client, username: str, password: str, ip: str = "10.0.0.1") -> Any:
    return client.post("/accounts/login/", {"login": username, "password": password}, REMOTE_ADDR=ip)


# --- the allauth login form ---------------------------------------------------------------


def test_operator_logs_in_without_second_factor(personas: dict[str, Any]) -> None:
    client = Client()
    response = login_form(client, "operator", PASSWORD)
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_supervisor_without_device_is_sent_to_enrol_first(personas: dict[str, Any]) -> None:
    client = Client()
    login_form(client, "supervisor", PASSWORD)
    response = client.get("/background-jobs/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/enrol/?next=%2Fbackground-jobs%2F"
    assert client.get("/api/v1/core/background-jobs/").json()["code"] == "two_factor_required"


def test_enrolment_with_qr_code_then_verified(personas: dict[str, Any], settings: Any) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the wrong code below would otherwise delay the next try
    client = Client()
    login_form(client, "supervisor", PASSWORD)
    page = client.get("/accounts/2fa/enrol/")
    assert page.status_code == 200 and b"<svg" in page.content
    secret = page.context["secret"].replace(" ", "")
    wrong = client.post("/accounts/2fa/enrol/", {"token": "000000"})
    assert wrong.status_code == 400
    code = pyotp.TOTP(secret).now()
    response = client.post("/accounts/2fa/enrol/", {"token": code, "next": "/background-jobs/"})
    assert response.status_code == 302 and response["Location"] == "/background-jobs/"
    assert client.get("/background-jobs/").status_code == 200
    assert TOTPDevice.objects.get(user=personas["supervisor"]).confirmed is True


def test_verify_refuses_a_reused_code(personas: dict[str, Any], device: TOTPDevice) -> None:
    first = Client()
    login_form(first, "supervisor", PASSWORD)
    code = totp_code(device)
    assert first.post("/accounts/2fa/verify/", {"token": code}).status_code == 302
    second = Client()
    login_form(second, "supervisor", PASSWORD)
    refused = second.post("/accounts/2fa/verify/", {"token": code})
    assert refused.status_code == 400
    assert "already used" in refused.content.decode()
    assert second.get("/background-jobs/").status_code == 302


def test_wrong_codes_slow_down_the_next_try(personas: dict[str, Any], device: TOTPDevice) -> None:
    client = Client()
    login_form(client, "supervisor", PASSWORD)
    assert client.post("/accounts/2fa/verify/", {"token": "000000"}).status_code == 400
    refused = client.post("/accounts/2fa/verify/", {"token": totp_code(device)})
    assert refused.status_code == 400
    assert client.get("/background-jobs/").status_code == 302


def test_session_key_rotates_on_login_and_on_second_factor(personas: dict[str, Any], device: TOTPDevice) -> None:
    client = Client()
    client.get("/accounts/login/")
    anonymous_key = client.session.session_key
    login_form(client, "supervisor", PASSWORD)
    after_password = client.session.session_key
    client.post("/accounts/2fa/verify/", {"token": totp_code(device)})
    after_otp = client.session.session_key
    assert len({anonymous_key, after_password, after_otp}) == 3


def test_session_expires_after_idle_time(settings: Any, personas: dict[str, Any]) -> None:
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_MINUTES * 60
    client = Client()
    login_form(client, "operator", PASSWORD)
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    Session.objects.filter(session_key=client.session.session_key).update(expire_date=timezone.now())
    assert client.get("/").status_code == 302


def test_login_form_rate_limit_per_account(personas: dict[str, Any]) -> None:
    client = Client()
    for attempt in range(5):
        response = login_form(client, "operator", "wrong", ip=f"10.0.1.{attempt}")
        assert LIMIT_MESSAGE not in response.content.decode()
    blocked = login_form(client, "operator", PASSWORD, ip="10.0.1.99")
    assert LIMIT_MESSAGE in blocked.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_form_rate_limit_per_ip(personas: dict[str, Any]) -> None:
    client = Client()
    for attempt in range(10):
        login_form(client, f"nobody{attempt}", "wrong", ip="10.0.2.1")
    blocked = login_form(client, "operator", PASSWORD, ip="10.0.2.1")
    assert LIMIT_MESSAGE in blocked.content.decode()
    assert login_form(Client(), "operator", PASSWORD, ip="10.0.2.2").status_code == 302


# --- the admin login ----------------------------------------------------------------------


def admin_login(client: Client, username: str, password: str, token: str = "", ip: str = "10.0.3.1") -> Any:
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "otp_token": token},
        REMOTE_ADDR=ip,
    )


def test_admin_login_needs_password_and_code(personas: dict[str, Any], settings: Any) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = TOTPDevice.objects.create(user=personas["admin"], name="phone", confirmed=True)
    client = Client()
    assert "wrong or was already used" in admin_login(client, "admin", PASSWORD, "123456").content.decode()
    response = admin_login(client, "admin", PASSWORD, totp_code(device))
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_admin_login_refuses_non_staff(personas: dict[str, Any]) -> None:
    device = TOTPDevice.objects.create(user=personas["supervisor"], name="phone", confirmed=True)
    response = admin_login(Client(), "supervisor", PASSWORD, totp_code(device))
    assert response.status_code == 200
    assert "Please enter the correct username and password for a staff account" in response.content.decode()


def test_admin_login_rate_limit_shared_with_login_form(personas: dict[str, Any]) -> None:
    device = TOTPDevice.objects.create(user=personas["admin"], name="phone", confirmed=True)
    client = Client()
    for attempt in range(3):
        admin_login(client, "admin", "wrong", ip=f"10.0.4.{attempt}")
    for attempt in range(2):
        login_form(client, "admin", "wrong", ip=f"10.0.5.{attempt}")
    blocked = admin_login(client, "admin", PASSWORD, totp_code(device), ip="10.0.6.1")
    assert LIMIT_MESSAGE in blocked.content.decode()
    assert client.get("/admin/").status_code == 302


def test_admin_login_rate_limit_per_ip(personas: dict[str, Any]) -> None:
    client = Client()
    for attempt in range(10):
        admin_login(client, f"nobody{attempt}", "wrong", ip="10.0.7.1")
    assert LIMIT_MESSAGE in admin_login(client, "admin", PASSWORD, ip="10.0.7.1").content.decode()


# --- the API token endpoint ---------------------------------------------------------------


def request_token(username: str, password: str, ip: str = "10.0.8.1", **extra: str) -> Any:
    return APIClient().post(
        "/api/v1/auth/token/",
        {"username": username, "password": password, "name": "edge gateway", **extra},
        format="json",
        REMOTE_ADDR=ip,
    )


def test_token_issued_hashed_and_usable(personas: dict[str, Any]) -> None:
    response = request_token("operator", PASSWORD)
    assert response.status_code == 201
    token = response.json()["token"]
    assert token.startswith("cnc_")
    stored = ApiToken.objects.get(user=personas["operator"])
    assert stored.name == "edge gateway"
    assert token not in (stored.digest, stored.token_key) and stored.token_key == token[:15]
    me = APIClient().get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200 and me.json()["username"] == "operator"
    stored.refresh_from_db()
    assert stored.last_used_at is not None


def test_token_needs_code_for_two_factor_roles(personas: dict[str, Any], device: TOTPDevice) -> None:
    refused = request_token("supervisor", PASSWORD)
    assert (refused.status_code, refused.json()["code"]) == (401, "two_factor_required")
    assert ApiToken.objects.count() == 0
    assert request_token("supervisor", PASSWORD, otp_token=totp_code(device)).status_code == 201


def test_token_endpoint_wrong_password_and_rate_limit(personas: dict[str, Any]) -> None:
    for attempt in range(5):
        response = request_token("operator", "wrong", ip=f"10.0.9.{attempt}")
        assert response.status_code == 401
    blocked = request_token("operator", PASSWORD, ip="10.0.9.50")
    assert blocked.status_code == 429
    assert blocked.json() == {"detail": LIMIT_MESSAGE, "code": "rate_limited"}
    assert ApiToken.objects.count() == 0


def test_token_endpoint_rate_limit_per_ip(personas: dict[str, Any]) -> None:
    for attempt in range(10):
        request_token(f"nobody{attempt}", "wrong", ip="10.0.10.1")
    assert request_token("operator", PASSWORD, ip="10.0.10.1").status_code == 429


def test_bad_token_request_says_what_is_missing(db: Any) -> None:
    response = APIClient().post("/api/v1/auth/token/", {"username": "x"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"password", "name"}


# --- deactivation -------------------------------------------------------------------------


def test_deactivated_user_loses_session_and_tokens_at_once(personas: dict[str, Any]) -> None:
    browser = Client()
    login_form(browser, "operator", PASSWORD)
    token = request_token("operator", PASSWORD).json()["token"]
    api = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    assert browser.get("/").status_code == 200
    assert api.get("/api/v1/auth/me/").status_code == 200
    deactivate_user(actor=personas["admin"], user=personas["operator"])
    assert browser.get("/").status_code == 302
    assert api.get("/api/v1/auth/me/").status_code == 401
    assert ApiToken.objects.filter(user=personas["operator"]).count() == 0


def test_inactive_user_token_refused_even_if_not_deleted(personas: dict[str, Any]) -> None:
    token = request_token("operator", PASSWORD).json()["token"]
    type(personas["operator"]).objects.filter(pk=personas["operator"].pk).update(is_active=False)
    assert APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/auth/me/").status_code == 401
