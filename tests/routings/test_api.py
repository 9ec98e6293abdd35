"""Every routings resource passes the API contract; the job workflow actions call the services."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.core.testing import ActionCase, ResourceContract
from apps.routings import services
from apps.routings.choices import JobStatus, OperationStatus
from apps.routings.models import Customer, Job, Operation, Part, PartFile, RoutingStep

from .builders import Shop, build_shop, make_job, straight_part

PDF = b"%PDF-1.7\n%%EOF\n"
SERIAL = itertools.count(1)


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


class ShopContract(ResourceContract):
    """A contract whose sample rows live in one small shop, made on first use in each test."""

    _shop: Shop | None = None

    @property
    def shop(self) -> Shop:
        if self._shop is None:
            self._shop = build_shop()
        return self._shop


class TestCustomerAPI(ShopContract):
    basename = "routings-customer"
    allowed_role = "operator"
    graphql_list = "customers"
    graphql_fields = "id code name isActive"
    filter_case = ("is_active", "false")
    create_data: ClassVar[dict[str, Any]] = {"code": "ACME", "name": "Acme Foodservice", "email": "buy@acme.test"}
    create_role = "production_manager"

    def make_object(self, index: int) -> Customer:
        return Customer.objects.create(code=f"C{index}", name=f"Customer {index}", is_active=index != 1)

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "code": obj.code,
            "name": obj.name,
            "email": "",
            "phone": "",
            "is_active": obj.is_active,
            "created_at": iso(obj.created_at),
            "updated_at": iso(obj.updated_at),
        }


class TestPartAPI(ShopContract):
    basename = "routings-part"
    allowed_role = "operator"
    graphql_list = "parts"
    graphql_fields = "id number revision customer { name } routingSteps { sequence operationCode } files { id }"
    filter_case = ("revision", "B")
    create_data: ClassVar[dict[str, Any]] = {"number": "NEW-1", "description": "Hood side panel"}
    create_role = "production_manager"

    def make_object(self, index: int) -> Part:
        part = straight_part(self.shop, f"PNL-{index}")
        part.revision = "B" if index == 1 else "A"
        part.customer = self.shop.customer
        part.thickness_mm = Decimal("1.5")
        part.save()
        return part

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "number": obj.number,
            "revision": obj.revision,
            "description": obj.description,
            "customer": self.shop.customer.pk,
            "material": None,
            "thickness_mm": "1.500",
            "grain_direction": "none",
            "is_active": True,
            "created_at": iso(obj.created_at),
            "updated_at": iso(obj.updated_at),
        }


class TestPartFileAPI(ShopContract):
    basename = "routings-partfile"
    allowed_role = "operator"
    filter_case = ("kind", "nc")

    @pytest.fixture(autouse=True)
    def media(self, settings: Any, tmp_path: Path) -> None:
        settings.MEDIA_ROOT = str(tmp_path)

    def make_object(self, index: int) -> PartFile:
        part = Part.objects.first() or straight_part(self.shop, "FILES-1")
        name, kind, content = ("O100.nc", "nc", b"G0 X0\n") if index == 1 else (f"d{index}.pdf", "drawing", PDF)
        return services.upload_part_file(
            actor=None, part_id=part.pk, kind=kind, uploaded_file=SimpleUploadedFile(name, content)
        )

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "part": obj.part_id,
            "kind": obj.kind,
            "original_name": obj.original_name,
            "size_bytes": obj.size_bytes,
            "content_type": obj.content_type,
            "sha256": obj.sha256,
            "uploaded_by": None,
            "created_at": iso(obj.created_at),
        }


class TestRoutingStepAPI(ShopContract):
    basename = "routings-routingstep"
    allowed_role = "operator"
    filter_case = ("operation_code", "BEND")

    def make_object(self, index: int) -> RoutingStep:
        part = straight_part(self.shop)
        return part.routing_steps.get(sequence=(10, 20, 30)[index % 3])

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "part": obj.part_id,
            "sequence": obj.sequence,
            "operation_code": obj.operation_code,
            "description": "",
            "work_center_type": obj.work_center_type_id,
            "preferred_work_center": obj.preferred_work_center_id,
            "setup_minutes": f"{obj.setup_minutes:.2f}",
            "run_minutes_per_unit": f"{obj.run_minutes_per_unit:.3f}",
            "predecessors": [p.pk for p in obj.predecessors.all()],
        }


def job_state(job: Any) -> tuple[Any, ...]:
    return (job.status, job.quantity, job.hold_reason, Job.objects.count(), Operation.objects.count())


class TestJobAPI(ShopContract):
    """Jobs whose first sample is a draft: release, cancel and split act on it."""

    basename = "routings-job"
    allowed_role = "operator"
    graphql_list = "jobs"
    graphql_fields = "id number status customer { code } part { number } operations { sequence }"
    filter_case = ("status", "released")
    first_status: ClassVar[str] = JobStatus.DRAFT
    other_status: ClassVar[str] = JobStatus.RELEASED
    actions = (
        ActionCase(name="release", allowed_role="planner", denied_role="supervisor", state=job_state),
        ActionCase(
            name="cancel",
            allowed_role="production_manager",
            denied_role="planner",
            body={"reason": "order withdrawn"},
            state=job_state,
        ),
        ActionCase(
            name="split",
            allowed_role="supervisor",
            denied_role="operator",
            body={"quantity": 4},
            state=job_state,
            expected_status=201,
        ),
    )

    def make_object(self, index: int) -> Job:
        job = make_job(
            self.shop, straight_part(self.shop), quantity=10, number=f"J-{next(SERIAL)}", due=date(2031, 1, 10)
        )
        status = self.other_status if index == 1 else self.first_status
        if status != JobStatus.DRAFT:
            services.release_job(actor=None, job_id=job.pk)
        if status == JobStatus.ON_HOLD:
            services.hold_job(actor=None, job_id=job.pk, reason="waiting for sheet")
        return Job.objects.get(pk=job.pk)

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "number": obj.number,
            "customer": self.shop.customer.pk,
            "part": obj.part_id,
            "quantity": 10,
            "due_date": "2031-01-10",
            "priority": 3,
            "sales_order": "",
            "status": obj.status,
            "status_changed_at": iso(obj.status_changed_at),
            "status_changed_by": None,
            "released_at": iso(obj.released_at),
            "released_by": None,
            "hold_reason": obj.hold_reason,
            "split_from": None,
            "notes": "",
            "late_risk": "on_track",
            "created_at": iso(obj.created_at),
            "updated_at": iso(obj.updated_at),
        }


class TestReleasedJobAPI(TestJobAPI):
    """Jobs whose first sample is released: hold acts on it."""

    filter_case = ("status", "draft")
    first_status = JobStatus.RELEASED
    other_status = JobStatus.DRAFT
    actions = (
        ActionCase(
            name="hold",
            allowed_role="supervisor",
            denied_role="operator",
            body={"reason": "waiting for sheet"},
            state=job_state,
        ),
    )


class TestHeldJobAPI(TestJobAPI):
    """Jobs whose first sample is on hold: resume acts on it."""

    filter_case = ("status", "released")
    first_status = JobStatus.ON_HOLD
    actions = (ActionCase(name="resume", allowed_role="supervisor", denied_role="quality", state=job_state),)


class TestOperationAPI(ShopContract):
    basename = "routings-operation"
    allowed_role = "operator"
    graphql_list = "operations"
    graphql_fields = "id sequence operationCode status totalMinutes predecessors workCenterType { code }"
    filter_case = ("status", "in_progress")

    def make_object(self, index: int) -> Operation:
        job = make_job(self.shop, straight_part(self.shop), quantity=10)
        services.release_job(actor=None, job_id=job.pk)
        operation = Operation.objects.get(job=job, sequence=10)
        if index == 1:
            services.start_operation(actor=None, operation_id=operation.pk)
        return Operation.objects.get(pk=operation.pk)

    def expected(self, obj: Any) -> dict[str, Any]:
        return {
            "id": obj.pk,
            "job": obj.job_id,
            "job_number": obj.job.number,
            "sequence": 10,
            "operation_code": "CUT",
            "description": "",
            "work_center_type": self.shop.laser.pk,
            "preferred_work_center": self.shop.laser_1.pk,
            "quantity": 10,
            "setup_minutes": "15.00",
            "run_minutes_per_unit": "0.500",
            "total_minutes": "20.000",
            "predecessors": [],
            "status": obj.status,
            "planned_start": None,
            "planned_end": None,
            "actual_start": iso(obj.actual_start),
            "actual_end": None,
            "created_at": iso(obj.created_at),
            "updated_at": iso(obj.updated_at),
        }


# --- beyond the contract ----------------------------------------------------------------------


@pytest.fixture
def shop(db: Any) -> Shop:
    return build_shop()


def test_refused_workflow_action_answers_400_with_the_reason(shop: Shop, client_for: Any) -> None:
    job = make_job(shop, straight_part(shop), number="J-50", status=JobStatus.CANCELLED)
    url = reverse("routings-job-release", args=[job.pk])
    response = client_for("planner").post(url, {}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request is not valid.",
        "code": "invalid",
        "fields": {"non_field_errors": ["Job J-50 is cancelled; only a draft job can be released."]},
    }
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED


def test_split_answers_the_new_job(shop: Shop, client_for: Any) -> None:
    job = make_job(shop, straight_part(shop), quantity=10, number="J-51")
    response = client_for("supervisor").post(
        reverse("routings-job-split", args=[job.pk]), {"quantity": 3}, format="json"
    )
    assert response.status_code == 201
    assert (response.json()["number"], response.json()["quantity"], response.json()["split_from"]) == (
        "J-51-2",
        3,
        job.pk,
    )
    bad = client_for("supervisor").post(reverse("routings-job-split", args=[job.pk]), {"quantity": 7}, format="json")
    assert bad.status_code == 400
    assert bad.json()["fields"] == {"non_field_errors": ["Split quantity must be between 1 and 6 for job J-51."]}


def test_hold_needs_a_reason(shop: Shop, client_for: Any) -> None:
    job = make_job(shop, straight_part(shop))
    services.release_job(actor=None, job_id=job.pk)
    response = client_for("supervisor").post(reverse("routings-job-hold", args=[job.pk]), {}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"reason": ["This field is required."]}
    assert Job.objects.get(pk=job.pk).status == JobStatus.RELEASED


def test_job_create_goes_through_the_service(shop: Shop, client_for: Any, personas: dict[str, Any]) -> None:
    part = straight_part(shop)
    body = {"number": "J-60", "customer": shop.customer.pk, "part": part.pk, "quantity": 5, "due_date": "2031-02-03"}
    assert client_for("operator").post(reverse("routings-job-list"), body, format="json").status_code == 403
    response = client_for("supervisor").post(
        reverse("routings-job-list"), {**body, "status": "complete"}, format="json"
    )
    assert response.status_code == 201, response.content
    job = Job.objects.get(number="J-60")
    assert (job.status, job.quantity, job.due_date) == (JobStatus.DRAFT, 5, date(2031, 2, 3))
    again = client_for("supervisor").post(reverse("routings-job-list"), {**body, "quantity": 0}, format="json")
    assert again.status_code == 400
    assert set(again.json()["fields"]) == {"number", "quantity"}


def test_released_job_quantity_cannot_change(shop: Shop, client_for: Any) -> None:
    job = make_job(shop, straight_part(shop), quantity=10, number="J-61")
    services.release_job(actor=None, job_id=job.pk)
    url = reverse("routings-job-detail", args=[job.pk])
    refused = client_for("supervisor").patch(url, {"quantity": 12}, format="json")
    assert refused.status_code == 400
    assert refused.json()["fields"] == {
        "quantity": ["Job J-61 is released: its quantity can no longer change; split or cancel it instead."]
    }
    changed = client_for("supervisor").patch(url, {"priority": 1, "notes": "rush for the show"}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["priority"], changed.json()["quantity"], changed.json()["notes"]) == (
        1,
        10,
        "rush for the show",
    )


def test_only_draft_jobs_can_be_deleted(shop: Shop, client_for: Any) -> None:
    job = make_job(shop, straight_part(shop), number="J-62", status=JobStatus.RELEASED)
    assert client_for("production_manager").delete(reverse("routings-job-detail", args=[job.pk])).status_code == 403
    response = client_for("admin").delete(reverse("routings-job-detail", args=[job.pk]))
    assert response.status_code == 400
    assert Job.objects.filter(pk=job.pk).exists()


def test_operation_change_by_supervisor(shop: Shop, client_for: Any) -> None:
    job = make_job(shop, straight_part(shop), quantity=10)
    services.release_job(actor=None, job_id=job.pk)
    bend = Operation.objects.get(job=job, sequence=20)
    url = reverse("routings-operation-detail", args=[bend.pk])
    assert client_for("operator").patch(url, {"setup_minutes": "5"}, format="json").status_code == 403
    wrong = client_for("supervisor").patch(url, {"preferred_work_center": shop.weld_1.pk}, format="json")
    assert wrong.status_code == 400
    assert wrong.json()["fields"] == {"preferred_work_center": ["weld-1 TIG weld 1 is not a Press brake 135 t."]}
    response = client_for("supervisor").patch(
        url, {"setup_minutes": "12.5", "preferred_work_center": shop.brake_1.pk, "status": "complete"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["setup_minutes"], response.json()["total_minutes"], response.json()["status"]) == (
        "12.50",
        "25.000",
        OperationStatus.PENDING,
    )
    assert client_for("admin").post(reverse("routings-operation-list"), {}, format="json").status_code == 405
    assert client_for("admin").delete(url).status_code == 405


def test_part_files_upload_and_list(shop: Shop, client_for: Any, settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    part = straight_part(shop, "UP-1")
    url = reverse("routings-part-files", args=[part.pk])
    upload = {"kind": "drawing", "file": SimpleUploadedFile("door.pdf", PDF, content_type="application/pdf")}
    assert client_for("supervisor").post(url, upload, format="multipart").status_code == 403
    assert PartFile.objects.count() == 0

    upload["file"] = SimpleUploadedFile("door.pdf", PDF)
    created = client_for("production_manager").post(url, upload, format="multipart")
    assert created.status_code == 201, created.content
    assert (created.json()["original_name"], created.json()["uploaded_by"]) == ("door.pdf", "production_manager")

    fake = {"kind": "drawing", "file": SimpleUploadedFile("fake.pdf", b"GIF89a")}
    refused = client_for("production_manager").post(url, fake, format="multipart")
    assert refused.status_code == 400
    assert refused.json()["fields"] == {"file": ["“fake.pdf” is not a PDF: a PDF file starts with %PDF-."]}

    listed = client_for("operator").get(url)
    assert [row["original_name"] for row in listed.json()] == ["door.pdf"]
    download = client_for("operator").get(reverse("routings-partfile-download", args=[created.json()["id"]]))
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="door.pdf"'
    assert (
        client_for("outsider").get(reverse("routings-partfile-download", args=[created.json()["id"]])).status_code
        == 403
    )


def test_part_routing_steps_nested_read(shop: Shop, client_for: Any) -> None:
    part = straight_part(shop)
    response = client_for("operator").get(reverse("routings-part-routing-steps", args=[part.pk]))
    assert [(row["sequence"], row["operation_code"]) for row in response.json()] == [
        (10, "CUT"),
        (20, "BEND"),
        (30, "WELD"),
    ]


def test_routing_step_create_and_cycle_refusal(shop: Shop, client_for: Any) -> None:
    part = straight_part(shop, "RS-2")
    url = reverse("routings-routingstep-list")
    body = {
        "part": part.pk,
        "operation_code": "PACK",
        "work_center_type": shop.weld.pk,
        "setup_minutes": "0",
        "run_minutes_per_unit": "0.25",
    }
    assert client_for("supervisor").post(url, body, format="json").status_code == 403
    created = client_for("production_manager").post(url, body, format="json")
    assert created.status_code == 201, created.content
    assert (created.json()["sequence"], created.json()["predecessors"]) == (40, [])

    cut = part.routing_steps.get(sequence=10)
    pack = part.routing_steps.get(sequence=40)
    cycle = client_for("production_manager").patch(
        reverse("routings-routingstep-detail", args=[cut.pk]), {"predecessors": [pack.pk]}, format="json"
    )
    assert cycle.status_code == 400
    assert cycle.json()["fields"] == {
        "non_field_errors": ["The routing of RS-2 rev A has a precedence cycle: 10 → 40 → 30 → 20 → 10."]
    }
    assert list(cut.predecessors.all()) == []


def test_job_list_filters_by_late_risk_and_department(shop: Shop, client_for: Any) -> None:
    part = straight_part(shop)
    late = make_job(shop, part, number="J-LATE", due=date(2020, 1, 6))
    make_job(shop, part, number="J-FINE", due=date(2031, 1, 6))
    other = Part.objects.create(number="PUNCH-ONLY", description="Punched blank")
    RoutingStep.objects.create(
        part=other,
        sequence=10,
        operation_code="PUNCH",
        work_center_type=shop.punch,
        setup_minutes=Decimal("5"),
        run_minutes_per_unit=Decimal("1"),
    )
    punched = make_job(shop, other, number="J-PUNCH", due=date(2031, 1, 6))
    client = client_for("operator")
    page = client.get(reverse("routings-job-list"), {"late_risk": "late"}).json()
    assert [row["number"] for row in page["results"]] == ["J-LATE"]
    assert page["results"][0]["late_risk"] == "late" and page["results"][0]["id"] == late.pk
    department = shop.punch.department_id
    page = client.get(reverse("routings-job-list"), {"department": department}).json()
    assert [row["id"] for row in page["results"]] == [punched.pk]
    bad = client.get(reverse("routings-job-list"), {"late_risk": "someday"})
    assert bad.status_code == 400
