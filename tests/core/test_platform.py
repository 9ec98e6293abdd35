"""Health probes, logging audiences, the broker, GraphQL limits and the production profile."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from apps.core import health
from apps.core.models import OperatorLogRecord
from apps.core.testing import graphql

ROOT = Path(__file__).resolve().parents[2]


def test_live_is_always_ok(db: Any) -> None:
    response = Client().get("/health/live")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_ready_checks_database_cache_and_broker(db: Any) -> None:
    response = Client().get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "failed": [],
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


def test_ready_names_what_failed(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_broker() -> None:
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    monkeypatch.setitem(health.CHECKS, "broker", broken_broker)
    response = Client().get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["broker"]
    assert body["checks"]["broker"] == "failed: ConnectionRefusedError: [Errno 111] Connection refused"
    assert body["checks"]["database"] == "ok"


def test_operator_logger_reaches_the_log_panel(db: Any, client_for: Any) -> None:
    logging.getLogger("operator.telemetry").warning("Laser 2 stopped reporting at %s", "06:12")
    logging.getLogger("operator.telemetry").info("not for the panel")
    logging.getLogger("cnc.scheduling").warning("technical warning, not for operators")
    records = list(OperatorLogRecord.objects.values_list("level", "source", "message"))
    assert records == [("WARNING", "operator.telemetry", "Laser 2 stopped reporting at 06:12")]
    page = client_for("supervisor").get("/log-panel/")
    assert page.status_code == 200
    assert "Laser 2 stopped reporting at 06:12" in page.content.decode()
    assert client_for("operator").get("/log-panel/").status_code == 403


def test_technical_log_is_json_lines_with_request_id(db: Any, settings: Any) -> None:
    from django.test import override_settings  # noqa: F401 - settings fixture restores LOGGING

    log_file = Path(settings.LOG_DIR) / "technical.jsonl"
    before = log_file.read_text().count("\n") if log_file.exists() else 0
    Client().get("/health/live", headers={"X-Request-ID": "req-test-42"})
    logging.getLogger("cnc.test").info("inside a request-less test")
    lines = log_file.read_text().splitlines()[before:]
    parsed = [json.loads(line) for line in lines]
    assert {"time", "level", "logger", "message", "request_id"} <= parsed[-1].keys()
    assert parsed[-1]["message"] == "inside a request-less test"


def test_request_id_is_echoed(db: Any) -> None:
    response = Client().get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert response["X-Request-ID"] == "abc-123"


def test_celery_round_trip_through_the_configured_broker(transactional_db: Any) -> None:
    """A real worker on the real broker (a folder by default, Redis when CELERY_BROKER_URL says so)."""
    from celery.contrib.testing.worker import start_worker
    from django.utils import timezone

    from apps.core.tasks import prune_operator_log_task
    from cnc_copilot.celery import app

    old = OperatorLogRecord.objects.create(level="WARNING", source="operator", message="old")
    OperatorLogRecord.objects.filter(pk=old.pk).update(logged_at=timezone.now() - timezone.timedelta(days=200))
    OperatorLogRecord.objects.create(level="WARNING", source="operator", message="new")
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            prune_operator_log_task.apply_async(kwargs={"keep_days": 90})
            deadline = time.monotonic() + 20
            while OperatorLogRecord.objects.count() > 1 and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        app.conf.task_always_eager = True
    assert list(OperatorLogRecord.objects.values_list("message", flat=True)) == ["new"]


def test_graphql_depth_limit(db: Any, client_for: Any, settings: Any) -> None:
    settings.GRAPHQL_MAX_DEPTH = 2
    deep = "{ backgroundJobs { requestedBy { id } } }"
    result = graphql(client_for("supervisor"), "{ me { id username } }")
    assert result["data"]["me"]["username"] == "supervisor"
    result = graphql(client_for("supervisor"), "{ a: me { id } b: backgroundJobs { id } }")
    assert "errors" not in result
    settings.GRAPHQL_MAX_DEPTH = 1
    result = graphql(client_for("supervisor"), deep)
    assert "exceeds maximum operation depth" in result["errors"][0]["message"]


def test_graphql_session_post_needs_csrf(db: Any, personas: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["operator"])
    response = client.post("/graphql/", json.dumps({"query": "{ me { id } }"}), content_type="application/json")
    assert response.status_code == 403


LOADED = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
EXTERNAL = re.compile(r"//[^\s\"']*(?:cdn|unpkg)")


def test_graphiql_and_swagger_load_only_local_files(db: Any, client_for: Any) -> None:
    client = client_for("operator")
    for url in ("/graphql/", "/api/docs/"):
        page = client.get(url, headers={"Accept": "text/html"}).content.decode()
        assert "/static/" in page
        # Every file the page loads is served here (a random token in the page may spell "cdn": look at URLs).
        assert all(url.startswith("/") and not url.startswith("//") for url in LOADED.findall(page))
        assert not EXTERNAL.search(page.lower()) and "https://" not in page


def test_openapi_schema_documents_errors(db: Any, client_for: Any) -> None:
    response = client_for("operator").get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    operation = schema["paths"]["/api/v1/core/background-jobs/"]["get"]
    assert {"200", "400", "401", "403", "404", "429"} <= operation["responses"].keys()
    assert "Error" in schema["components"]["schemas"]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ENV", "DEBUG")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_secret_and_hosts() -> None:
    result = _manage("check", env={"DJANGO_ENV": "production", "CNC_TESTING": "0"})
    assert result.returncode != 0
    assert "DJANGO_ENV=production needs SECRET_KEY, ALLOWED_HOSTS set in the environment." in result.stderr


def test_production_profile_passes_check_deploy() -> None:
    env = {
        "DJANGO_ENV": "production",
        "CNC_TESTING": "0",
        "SECRET_KEY": "x" * 20 + "production-secret-key-with-enough-entropy-0123456789",
        "ALLOWED_HOSTS": "mes.example.com",
    }
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
