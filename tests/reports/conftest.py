from typing import Any

import pytest

from tests.reports.floor import shop_with_laser_day
from tests.routings.builders import Shop


@pytest.fixture
def shop(personas: dict[str, Any]) -> Shop:
    """The laser's hand-computed Monday (see tests/reports/floor.py)."""
    return shop_with_laser_day(personas)
