"""`manage.py simulate_machines`: the shop's work centers, simulated fast, straight into the ingest."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.machines.models import WorkCenter
from apps.telemetry import ingest
from apps.telemetry.models import DeadLetter, Sample
from apps.telemetry.simulator.shop import simulated_work_centers
from tests.machines.shop import department, shift_calendar, work_center, work_center_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop() -> list[WorkCenter]:
    shift_calendar("Around the clock", [(day, time(0), time(23, 59), []) for day in range(7)], plant_default=True)
    laser = work_center_type("fiber-laser", department("laser", sequence=1))
    brake = work_center_type("press-brake-small", department("forming", sequence=2))
    return [work_center("LAS-01", laser), work_center("BRK-04", brake)]


@pytest.fixture(autouse=True)
def fresh_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process ingest keeps one Sparkplug tracker per process; each test starts without one."""
    monkeypatch.setattr(ingest, "_default_decoder", None)


def test_in_process_run_stores_samples_without_dead_letters(shop: list[WorkCenter]) -> None:
    out = StringIO()
    start = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    call_command(
        "simulate_machines",
        "--in-process",
        "--no-mtconnect",
        "--no-opcua",
        "--speed=7200",
        "--duration=0.6",
        f"--start={start.isoformat()}",
        stdout=out,
    )
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        f"simulating 2 machines in 2 edge nodes to the in-process ingest, from {start:%Y-%m-%d %H:%M} UTC at speed 7200"
    )
    assert lines[1].startswith(f"simulated {start:%Y-%m-%d %H:%M} to ")
    assert DeadLetter.objects.count() == 0
    assert set(Sample.objects.values_list("work_center__code", flat=True).distinct()) == {"LAS-01", "BRK-04"}
    assert Sample.objects.filter(metric="availability", value_text="AVAILABLE").count() == 2


def test_machines_beyond_the_shop_are_created_as_clones(shop: list[WorkCenter]) -> None:
    chosen = simulated_work_centers(5)
    assert [wc.code for wc in chosen] == ["LAS-01", "BRK-04", "LAS-01-C1", "BRK-04-C1", "LAS-01-C2"]
    clone = WorkCenter.objects.get(code="BRK-04-C1")
    assert (clone.department.code, clone.work_center_type.code, clone.iot_device_id) == (
        "forming",
        "press-brake-small",
        "",
    )
    assert [wc.code for wc in simulated_work_centers(5)] == [wc.code for wc in chosen]
    assert [wc.code for wc in simulated_work_centers(1)] == ["LAS-01"]
    assert WorkCenter.objects.count() == 5


def test_without_work_centers_the_command_says_what_to_do() -> None:
    with pytest.raises(CommandError, match=r"load the demo shop first \(make demo\)"):
        call_command("simulate_machines", "--in-process", "--no-mtconnect", "--no-opcua", "--duration=0.1")
