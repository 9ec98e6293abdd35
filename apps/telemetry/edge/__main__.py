"""`python -m apps.telemetry.edge --config FILE`: the gateway without Django (see cli.py)."""

from apps.telemetry.edge.cli import main

raise SystemExit(main())
