"""A simulated past for the demo shop, so that OEE has a day to show as soon as `make run` starts.

Machine states. The simulator's own model (apps/telemetry/simulator) runs for every simulated work
center from the window start to `now`, and its Sparkplug messages go through the ingest's decoder
(births, aliases, seq checks) and the ingest's machine-state stage (`update_machine_states`, which
is `apply_readings`) exactly as `simulate_machines --in-process` feeds them, only in big batches and
as fast as the CPU goes. The one step left out is the raw sample table: nothing but the admin reads
it, and storing 100 000 made-up samples would cost a third of the run. The edge nodes end the window
without a death, like a simulator still running: the live simulator that `run_shop` starts next
opens new sessions (a new bdSeq, new births) and its readings carry on from the history's.

Production. HIST- jobs of demo parts run on the simulated machines' running time (see `plan`), and
one operator, `history-operator`, clocks in for each shift and works them through the shop-floor
services, which take the past moment (`at`) of every action: start, setup done, hourly reports,
completion. Scrap is 1–4 % with the seeded scrap reasons, with some start-up rejects during setup.
Operators give a reason to most alarm stops, and one machine sits idle for two hours with "no work
scheduled".

Idempotent: the previous history (HIST- jobs, the history operator's attendance, the simulated
machines' states, alarms and live states from the new window start on) goes first, and the whole
run is one transaction.
"""

from .loader import HistoryError, HistorySummary, load_demo_history

__all__ = ["HistoryError", "HistorySummary", "load_demo_history"]
