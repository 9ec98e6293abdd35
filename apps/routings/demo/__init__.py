"""The demo shop `manage.py load_demo_shop` loads: a custom sheet-metal shop that makes commercial
kitchen equipment (stainless work tables, sinks, hoods, shelving, cabinets) and hollow metal doors,
frames and louvers.

`catalog` holds the fixed data, `plan` turns it into a dated, seeded plan (pure), and `loader`
writes what is missing and moves new jobs through the routing services.
"""

from .loader import DemoSummary, load_demo_shop
from .plan import DEMO_SEED, DemoPlan, plan_demo_shop

__all__ = ["DEMO_SEED", "DemoPlan", "DemoSummary", "load_demo_shop", "plan_demo_shop"]
