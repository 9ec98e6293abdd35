"""Signing in through a real browser: password, TOTP enrolment, one-time codes, sign-out.

The codes come from pyotp, computed from the secret the enrolment page shows, exactly as an
authenticator app would. No test sleeps for a whole 30-second step: a code for the next step is
accepted (OTP_TOTP_TOLERANCE = 1), so only short, bounded waits remain (see `_away_from_step_edge`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect

from .conftest import E2E_PASSWORD

pytestmark = pytest.mark.e2e

STEP = 30  # seconds per TOTP code (django-otp's default, and what the otpauth URI says)


def _step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP)


def _away_from_step_edge(margin: float = 3.0) -> None:
    """Wait (at most `margin` s) if a step boundary is near, so that the code we compute and the
    server's check fall in the same step. Otherwise django-otp may record a drift of -1 and then
    refuse a next-step code later in the test, which would make it flaky."""
    remaining = STEP - (time.time() % STEP)
    if remaining < margin:
        time.sleep(remaining + 0.25)


def _url(base_url: str, path: str) -> re.Pattern[str]:
    """The page at `path`, with or without a query string (e.g. ?next=/)."""
    return re.compile(re.escape(base_url + path) + r"(\?.*)?$")


def _sign_in(page: Page, username: str, password: str = E2E_PASSWORD) -> None:
    page.goto("/accounts/login/")
    expect(page.locator("main h1")).to_have_text("Sign in")
    form = page.locator("main form").first
    form.locator("input[name=login]").fill(username)
    form.locator("input[name=password]").fill(password)
    form.get_by_role("button", name="Sign in").click()


def _sign_out(page: Page, base_url: str) -> None:
    page.locator("header").get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(re.escape(base_url) + r"/accounts/(login|logout)/"))
    if "/accounts/logout/" in page.url:  # allauth's confirmation page, if it ever shows one
        page.locator("main form").get_by_role("button").first.click()
    page.wait_for_url(_url(base_url, "/accounts/login/"))
    expect(page.locator("header")).not_to_contain_text("Sign out")


def _submit_code(page: Page, code: str, button: str) -> Any:
    """Type `code` and submit; returns the HTTP response of the POST."""
    page.locator("input[name=token]").fill(code)
    with page.expect_response(lambda r: r.request.method == "POST" and "/accounts/2fa/" in r.url) as info:
        page.get_by_role("button", name=button).click()
    page.wait_for_load_state("load")
    return info.value


def test_supervisor_enrols_then_a_replayed_code_is_refused_and_a_fresh_one_accepted(
    page: Page, base_url: str, e2e_user: Callable[..., Any], artifacts_dir: Path
) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    supervisor = e2e_user("sam", "supervisor", first_name="Sam", last_name="Supervisor")
    assert supervisor.requires_two_factor

    # 1. Password accepted; with no authenticator yet, every page sends her to enrol.
    _sign_in(page, "sam")
    page.wait_for_url(_url(base_url, "/accounts/2fa/enrol/"))
    expect(page.locator("main h1")).to_have_text("Set up two-factor sign-in")
    expect(page.locator("figure.qr svg")).to_be_visible()
    page.goto("/")
    page.wait_for_url(_url(base_url, "/accounts/2fa/enrol/"))

    # 2. The key shown by hand and the one in the QR code's URI are the same secret.
    shown = page.locator("#totp-secret").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", shown), shown
    secret = shown.replace(" ", "")
    uri = page.locator("#otpauth-uri").input_value()
    from_uri = pyotp.parse_uri(uri)
    assert isinstance(from_uri, pyotp.TOTP)
    assert from_uri.secret == secret
    assert from_uri.interval == STEP and from_uri.digits == 6
    assert uri.startswith("otpauth://totp/") and "sam" in uri and "issuer=CNC%20Copilot" in uri
    page.screenshot(path=str(artifacts_dir / "01-enrol.png"), full_page=True)
    totp = pyotp.TOTP(secret)

    # 3. The current code confirms the authenticator and lets her in.
    _away_from_step_edge()
    first_code = totp.now()
    first_step = _step()
    response = _submit_code(page, first_code, "Confirm")
    assert response.status == 302, response.status
    page.wait_for_url(_url(base_url, "/"))
    expect(page.locator("main h1")).to_have_text("Welcome, Sam Supervisor")
    expect(page.locator(".messages")).to_contain_text("Your authenticator is set up.")
    assert TOTPDevice.objects.filter(user=supervisor, confirmed=True).count() == 1
    page.screenshot(path=str(artifacts_dir / "02-home-after-enrol.png"), full_page=True)

    # 4. Sign out, sign in again: now a code is asked for, not a new enrolment.
    _sign_out(page, base_url)
    _sign_in(page, "sam")
    page.wait_for_url(_url(base_url, "/accounts/2fa/verify/"))
    expect(page.locator("main h1")).to_have_text("Two-factor sign-in")

    # 5. The very code used at enrolment, still inside the accepted time window, is refused.
    assert _step() - first_step <= 1, "too slow: the replayed code left the tolerance window"
    response = _submit_code(page, first_code, "Verify")
    refused_at = time.monotonic()
    assert response.status == 400, response.status
    assert _url(base_url, "/accounts/2fa/verify/").match(page.url), page.url
    expect(page.locator(".field.has-error .error")).to_have_text(
        "That code is wrong or was already used. Wait for the next code."
    )
    page.screenshot(path=str(artifacts_dir / "03-verify-replay-refused.png"), full_page=True)
    # ...and the session is still not let in anywhere.
    page.goto("/")
    page.wait_for_url(_url(base_url, "/accounts/2fa/verify/"))

    # 6. The next step's code works. django-otp throttles for 1 s after a failure, so wait that
    #    out first (bounded), then submit a code for the next 30-s step (tolerance 1).
    time.sleep(max(0.0, 1.5 - (time.monotonic() - refused_at)))
    _away_from_step_edge()
    next_code = totp.at(time.time() + STEP)
    assert next_code != first_code or _step() != first_step
    response = _submit_code(page, next_code, "Verify")
    assert response.status == 302, response.status
    page.wait_for_url(_url(base_url, "/"))
    expect(page.locator("main h1")).to_have_text("Welcome, Sam Supervisor")
    expect(page.locator("main .badge")).to_have_text(["supervisor"])
    expect(page.locator("header")).to_contain_text("Sign out")
    # A verified session reaches pages beyond home (supervisors may view background jobs).
    page.goto("/background-jobs/")
    assert _url(base_url, "/background-jobs/").match(page.url), page.url
    page.goto("/")
    expect(page.locator("main h1")).to_have_text("Welcome, Sam Supervisor")
    page.screenshot(path=str(artifacts_dir / "04-home-after-verify.png"), full_page=True)

    assert page.e2e_problems == []  # type: ignore[attr-defined]


def test_operator_signs_in_without_a_second_factor(
    page: Page, base_url: str, e2e_user: Callable[..., Any], artifacts_dir: Path
) -> None:
    operator = e2e_user("olga", "operator")
    assert not operator.requires_two_factor

    _sign_in(page, "olga")
    page.wait_for_url(_url(base_url, "/"))
    expect(page.locator("main h1")).to_have_text("Welcome, olga")
    expect(page.locator("header")).to_contain_text("Sign out")
    page.goto("/accounts/profile/")  # other pages open too: nothing sends her to 2FA
    assert _url(base_url, "/accounts/profile/").match(page.url), page.url
    page.goto("/")
    expect(page.locator("main h1")).to_have_text("Welcome, olga")
    page.screenshot(path=str(artifacts_dir / "05-home-operator.png"), full_page=True)
    assert page.e2e_problems == []  # type: ignore[attr-defined]


def test_wrong_password_is_refused_with_a_message(
    page: Page, base_url: str, e2e_user: Callable[..., Any], artifacts_dir: Path
) -> None:
    e2e_user("sam", "supervisor")

    _sign_in(page, "sam", "not the password")
    expect(page.locator("main [role=alert]").first).to_contain_text(
        "The username and/or password you specified are not correct."
    )
    assert _url(base_url, "/accounts/login/").match(page.url), page.url
    expect(page.locator("header")).not_to_contain_text("Sign out")
    # One way to reset the password, not two (allauth's field help already links to it).
    expect(page.get_by_role("link", name="Forgot your password?")).to_have_count(1)
    page.screenshot(path=str(artifacts_dir / "06-login-wrong-password.png"), full_page=True)
    # Still signed out: the home page sends her back to sign in.
    page.goto("/")
    page.wait_for_url(re.compile(re.escape(base_url) + r"/accounts/login/\?next=/$"))
    assert page.e2e_problems == []  # type: ignore[attr-defined]
