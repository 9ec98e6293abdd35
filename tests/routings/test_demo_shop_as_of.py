"""`load_demo_shop --now`: the demo as it looks at a given moment, in a database without one."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from apps.routings.demo.plan import HORIZON_DAYS
from apps.routings.models import Job

pytestmark = pytest.mark.django_db


def test_the_command_loads_the_shop_as_of_a_given_moment() -> None:
    call_command("load_demo_shop", "--now", "2027-03-01T06:00", stdout=StringIO())

    dues = list(Job.objects.values_list("number", "due_date"))
    assert len(dues) == 300
    assert all(number.startswith("J27-") for number, _ in dues)  # numbered from the year it was loaded
    assert date(2027, 3, 2) <= min(due for _, due in dues)
    assert max(due for _, due in dues) <= date(2027, 3, 1) + timedelta(days=HORIZON_DAYS)
