"""GraphQL: job queries with filters and the workflow mutations, which call the services."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from apps.core.testing import first_error_code, graphql
from apps.routings import services
from apps.routings.choices import JobStatus
from apps.routings.models import Job

from .builders import Shop, build_shop, diamond_part, make_job, straight_part

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop() -> Shop:
    return build_shop()


def test_release_job_mutation(shop: Shop, client_for: Any) -> None:
    job = make_job(shop, diamond_part(shop), number="J-G1")
    fields = "number status operations { sequence predecessors }"
    mutation = f'mutation {{ releaseJob(id: "{job.pk}") {{ job {{ {fields} }} }} }}'

    denied = graphql(client_for("supervisor"), mutation)
    assert first_error_code(denied) == "FORBIDDEN"
    assert Job.objects.get(pk=job.pk).status == JobStatus.DRAFT

    result = graphql(client_for("planner"), mutation)
    assert "errors" not in result, result
    released = result["data"]["releaseJob"]["job"]
    assert (released["number"], released["status"]) == ("J-G1", "released")
    assert [op["sequence"] for op in released["operations"]] == [10, 20, 30, 40]
    assert released["operations"][3]["predecessors"] == [
        str(pk) for pk in job.operations.filter(sequence__in=(20, 30)).order_by("sequence").values_list("pk", flat=True)
    ]

    again = graphql(client_for("planner"), mutation)
    assert first_error_code(again) == "INVALID"
    assert again["errors"][0]["message"] == "Job J-G1 is released; only a draft job can be released."


def test_hold_resume_cancel_split_mutations(shop: Shop, client_for: Any) -> None:
    job = make_job(shop, straight_part(shop), quantity=10, number="J-G2")
    services.release_job(actor=None, job_id=job.pk)
    supervisor = client_for("supervisor")

    held = graphql(
        supervisor, f'mutation {{ holdJob(id: "{job.pk}", reason: "no sheet") {{ job {{ status holdReason }} }} }}'
    )
    assert held["data"]["holdJob"]["job"] == {"status": "on_hold", "holdReason": "no sheet"}
    resumed = graphql(supervisor, f'mutation {{ resumeJob(id: "{job.pk}") {{ job {{ status }} }} }}')
    assert resumed["data"]["resumeJob"]["job"] == {"status": "released"}
    split = graphql(
        supervisor,
        f'mutation {{ splitJob(id: "{job.pk}", quantity: 4) {{ job {{ quantity }} newJob {{ number quantity }} }} }}',
    )
    assert split["data"]["splitJob"] == {"job": {"quantity": 6}, "newJob": {"number": "J-G2-2", "quantity": 4}}

    denied = graphql(supervisor, f'mutation {{ cancelJob(id: "{job.pk}") {{ job {{ status }} }} }}')
    assert first_error_code(denied) == "FORBIDDEN"
    cancelled = graphql(
        client_for("production_manager"),
        f'mutation {{ cancelJob(id: "{job.pk}", reason: "dropped") {{ job {{ status notes }} }} }}',
    )
    assert cancelled["data"]["cancelJob"]["job"] == {"status": "cancelled", "notes": "Cancelled: dropped"}


def test_mutation_on_a_missing_job(client_for: Any) -> None:
    result = graphql(client_for("planner"), 'mutation { releaseJob(id: "999999") { job { id } } }')
    assert first_error_code(result) == "NOT_FOUND"


def test_jobs_query_filters(shop: Shop, client_for: Any) -> None:
    part = straight_part(shop)
    make_job(shop, part, number="J-OLD", due=date(2020, 2, 3))
    released = make_job(shop, part, number="J-REL", due=date(2031, 2, 3))
    services.release_job(actor=None, job_id=released.pk)
    client = client_for("operator")

    by_status = graphql(client, '{ jobs(status: "released") { number status } }')
    assert by_status["data"]["jobs"] == [{"number": "J-REL", "status": "released"}]
    late = graphql(client, '{ jobs(lateRisk: "late") { number } }')
    assert late["data"]["jobs"] == [{"number": "J-OLD"}]
    window = graphql(client, '{ jobs(dueFrom: "2030-01-01", dueTo: "2031-12-31") { number } }')
    assert window["data"]["jobs"] == [{"number": "J-REL"}]
    bad = graphql(client, '{ jobs(lateRisk: "soon") { number } }')
    assert first_error_code(bad) == "BAD_USER_INPUT"
    fields = "number customer { code } part { number } operations { operationCode totalMinutes }"
    one = graphql(client, f'{{ job(id: "{released.pk}") {{ {fields} }} }}')
    assert one["data"]["job"] == {
        "number": "J-REL",
        "customer": {"code": "HOB"},
        "part": {"number": part.number},
        "operations": [
            {"operationCode": "CUT", "totalMinutes": "20.000"},
            {"operationCode": "BEND", "totalMinutes": "32.500"},
            {"operationCode": "WELD", "totalMinutes": "50.000"},
        ],
    }


def test_jobs_query_takes_a_constant_number_of_queries(
    shop: Shop, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for("operator")
    query = (
        "{ jobs(first: 500) { number customer { name } part { number }"
        " operations { sequence workCenterType { code } } } }"
    )
    part = straight_part(shop)
    for index in range(3):
        services.release_job(actor=None, job_id=make_job(shop, part, number=f"J-Q{index}").pk)
    graphql(client, query)
    for index in range(3, 40):
        services.release_job(actor=None, job_id=make_job(shop, part, number=f"J-Q{index}").pk)
    with django_assert_max_num_queries(12):
        result = graphql(client, query)
    assert len(result["data"]["jobs"]) == 40
