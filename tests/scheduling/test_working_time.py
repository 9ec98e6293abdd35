"""The working clock: positions count working minutes; starts and ends map back to real time."""

from __future__ import annotations

from apps.scheduling.solver.working_time import WorkingTime

# Working 100-200 and 300-350.
CLOCK = WorkingTime([(100, 200), (300, 350)])


def test_positions_count_working_minutes_from_the_first_start() -> None:
    assert [CLOCK.position(t) for t in (0, 100, 150, 200, 250, 300, 340, 400)] == [
        100,
        100,
        150,
        200,
        200,
        200,
        240,
        250,
    ]
    assert CLOCK.total == 250


def test_a_boundary_starts_in_the_next_window_and_ends_in_the_earlier() -> None:
    assert CLOCK.start_of(200) == 300
    assert CLOCK.end_of(200) == 200
    assert CLOCK.end_of(210) == 310


def test_earliest_and_latest_positions() -> None:
    assert CLOCK.earliest_position(180, 60, within_window=False) == 180
    assert CLOCK.earliest_position(180, 60, within_window=True) is None  # the second window is only 50 long
    assert CLOCK.earliest_position(180, 40, within_window=True) == 200
    assert CLOCK.latest_position(250, 40, within_window=True) == 210
    assert CLOCK.latest_position(250, 60, within_window=False) == 190
