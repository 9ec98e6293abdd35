"""A machine's working time as a second clock that only runs while the machine may work.

The position of an instant is the number of working minutes before it, counted from the start
of the first working interval (so on a calendar with one interval, position == time). An
operation that pauses over non-working time occupies the positions [p, p + work): its real start
is `start_of(p)` and its real end `end_of(p + work)`. Two operations on one machine overlap in
real time exactly when they overlap in positions, and a changeover needs working time between
them exactly when the gap in positions is long enough, which is why the CP-SAT model places
operations on this clock and links it to real time only at the window boundaries.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from .model import Interval


class WorkingTime:
    """Working intervals of one machine, clipped to [0, horizon), with position arithmetic."""

    __slots__ = ("ends", "lengths", "offsets", "position_ends", "position_starts", "starts", "total")

    def __init__(self, intervals: Sequence[Interval]) -> None:
        self.starts: list[int] = [start for start, _ in intervals]
        self.ends: list[int] = [end for _, end in intervals]
        self.lengths: list[int] = [end - start for start, end in intervals]
        self.position_starts: list[int] = []
        self.position_ends: list[int] = []
        # offsets[i] = real time minus position inside window i: the non-working minutes before it.
        self.offsets: list[int] = []
        position = self.starts[0] if intervals else 0
        for start, end in intervals:
            self.position_starts.append(position)
            self.offsets.append(start - position)
            position += end - start
            self.position_ends.append(position)
        self.total = position  # position of the end of working time

    @property
    def empty(self) -> bool:
        return not self.starts

    @property
    def first(self) -> int:
        return self.position_starts[0] if self.position_starts else 0

    @property
    def working_minutes(self) -> int:
        return self.total - self.first

    @property
    def longest_window(self) -> int:
        return max(self.lengths, default=0)

    def is_working(self, time: int) -> bool:
        index = bisect_right(self.starts, time) - 1
        return index >= 0 and time < self.ends[index]

    def resume(self, time: int) -> int | None:
        """The first working minute at or after `time`, or None past the last window."""
        position = self.position(time)
        return self.start_of(position) if position < self.total else None

    def position(self, time: int) -> int:
        """Working minutes before `time`, on this clock; times before the first interval map to its start."""
        index = bisect_right(self.starts, time) - 1
        if index < 0:
            return self.first
        if time < self.ends[index]:
            return time - self.offsets[index]
        return self.position_ends[index]

    def start_window(self, position: int) -> int:
        """Index of the window an operation starting at `position` starts in (a boundary belongs to the next)."""
        return bisect_right(self.position_starts, position) - 1

    def end_window(self, position: int) -> int:
        """Index of the window an operation ending at `position` ends in (a boundary belongs to the earlier)."""
        return bisect_left(self.position_ends, position)

    def start_of(self, position: int) -> int:
        return position + self.offsets[self.start_window(position)]

    def end_of(self, position: int) -> int:
        return position + self.offsets[self.end_window(position)]

    def finish(self, position: int, work: int) -> int:
        """Real end of `work` minutes started at `position`; zero minutes end where they start."""
        return self.start_of(position) if work == 0 else self.end_of(position + work)

    def earliest_position(self, position: int, work: int, within_window: bool) -> int | None:
        """The first position >= `position` where `work` minutes can start, or None past the horizon."""
        if within_window:
            index = max(self.start_window(position), 0)
            while index < len(self.starts):
                start = max(position, self.position_starts[index])
                if start + work <= self.position_ends[index]:
                    return start
                index += 1
            return None
        position = max(position, self.first)
        return position if position + work <= self.total else None

    def latest_position(self, position: int, work: int, within_window: bool) -> int | None:
        """The last start position <= `position` for `work` minutes, or None before the first window."""
        if within_window:
            index = min(self.start_window(position), len(self.starts) - 1)
            while index >= 0:
                start = min(position, self.position_ends[index] - work)
                if start >= self.position_starts[index]:
                    return start
                index -= 1
            return None
        position = min(position, self.total - work)
        return position if position >= self.first else None
