from __future__ import annotations

from collections.abc import Callable
from typing import Any

import graphene
from django.core.exceptions import ValidationError
from graphql import GraphQLError

from apps.core.graphql.base import ShopMutation, check_access, list_field, resolve_list, view_permission

from ..filters import JobFilter
from ..models import Job, Part
from ..selectors import LateRisk
from ..services import (
    CANCEL,
    HOLD,
    RELEASE,
    SPLIT,
    cancel_job,
    hold_job,
    release_job,
    resume_job,
    split_job,
)
from .types import CustomerType, JobType, OperationType, PartType

MAX_PAGE = 500


class RoutingsQuery(graphene.ObjectType):
    customers = list_field(CustomerType, code=graphene.String(), is_active=graphene.Boolean())
    parts = list_field(
        PartType, number=graphene.String(), customer=graphene.ID(), material=graphene.ID(), is_active=graphene.Boolean()
    )
    part = graphene.Field(PartType, id=graphene.ID(required=True))
    jobs = graphene.List(
        graphene.NonNull(JobType),
        first=graphene.Int(default_value=50),
        offset=graphene.Int(default_value=0),
        status=graphene.String(),
        customer=graphene.ID(),
        due_from=graphene.Date(),
        due_to=graphene.Date(),
        late_risk=graphene.String(description="late, at_risk or on_track (see the job list page)"),
        description="Jobs, filtered like the job list page.",
    )
    job = graphene.Field(JobType, id=graphene.ID(required=True))
    operations = list_field(OperationType, job=graphene.ID(), status=graphene.String(), work_center_type=graphene.ID())

    def resolve_customers(self, info: Any, **kwargs: Any) -> Any:
        return resolve_list(CustomerType, info, **kwargs)

    def resolve_parts(self, info: Any, **kwargs: Any) -> Any:
        return resolve_list(PartType, info, **kwargs)

    def resolve_part(self, info: Any, id: str) -> Part | None:
        check_access(info, view_permission(Part))
        return PartType.get_queryset(Part.objects.filter(pk=id), info).first()

    def resolve_jobs(self, info: Any, first: int, offset: int, **filters: Any) -> Any:
        check_access(info, view_permission(Job))
        if filters.get("late_risk") not in (None, *LateRisk.values):
            raise GraphQLError("lateRisk is one of late, at_risk, on_track.", extensions={"code": "BAD_USER_INPUT"})
        data = {key: value for key, value in filters.items() if value is not None}
        filterset = JobFilter(data, queryset=JobType.get_queryset(Job.objects.all(), info))
        if not filterset.is_valid():
            raise GraphQLError(str(dict(filterset.errors)), extensions={"code": "BAD_USER_INPUT"})
        first = max(0, min(first, MAX_PAGE))
        return filterset.qs[offset : offset + first]

    def resolve_job(self, info: Any, id: str) -> Job | None:
        check_access(info, view_permission(Job))
        return JobType.get_queryset(Job.objects.filter(pk=id), info).first()

    def resolve_operations(self, info: Any, **kwargs: Any) -> Any:
        return resolve_list(OperationType, info, **kwargs)


def _run(info: Any, job_id: str, service: Callable[..., Job], **arguments: Any) -> Job:
    """Call a job service; a refusal becomes an INVALID error carrying the service's words."""
    job = Job.objects.filter(pk=job_id).first() if str(job_id).isdigit() else None
    if job is None:
        raise GraphQLError("No such job.", extensions={"code": "NOT_FOUND"})
    try:
        return service(actor=info.context.user, job_id=job.pk, **arguments)
    except ValidationError as exc:
        raise GraphQLError(" ".join(exc.messages), extensions={"code": "INVALID"}) from exc


class ReleaseJob(ShopMutation):
    """Release a draft job: its part's routing is copied into its operations."""

    required_permission = RELEASE

    class Arguments:
        id = graphene.ID(required=True)

    job = graphene.Field(JobType)

    @classmethod
    def perform(cls, root: Any, info: Any, id: str) -> ReleaseJob:
        return ReleaseJob(job=_run(info, id, release_job))


class HoldJob(ShopMutation):
    required_permission = HOLD

    class Arguments:
        id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    job = graphene.Field(JobType)

    @classmethod
    def perform(cls, root: Any, info: Any, id: str, reason: str) -> HoldJob:
        return HoldJob(job=_run(info, id, hold_job, reason=reason))


class ResumeJob(ShopMutation):
    required_permission = HOLD

    class Arguments:
        id = graphene.ID(required=True)

    job = graphene.Field(JobType)

    @classmethod
    def perform(cls, root: Any, info: Any, id: str) -> ResumeJob:
        return ResumeJob(job=_run(info, id, resume_job))


class CancelJob(ShopMutation):
    required_permission = CANCEL

    class Arguments:
        id = graphene.ID(required=True)
        reason = graphene.String(default_value="")

    job = graphene.Field(JobType)

    @classmethod
    def perform(cls, root: Any, info: Any, id: str, reason: str = "") -> CancelJob:
        return CancelJob(job=_run(info, id, cancel_job, reason=reason))


class SplitJob(ShopMutation):
    """Move `quantity` of a job that has not started to a new job; answers both."""

    required_permission = SPLIT

    class Arguments:
        id = graphene.ID(required=True)
        quantity = graphene.Int(required=True)

    job = graphene.Field(JobType)
    new_job = graphene.Field(JobType)

    @classmethod
    def perform(cls, root: Any, info: Any, id: str, quantity: int) -> SplitJob:
        new_job = _run(info, id, split_job, quantity=quantity)
        return SplitJob(job=Job.objects.get(pk=id), new_job=new_job)


class RoutingsMutation(graphene.ObjectType):
    release_job = ReleaseJob.Field()
    hold_job = HoldJob.Field()
    resume_job = ResumeJob.Field()
    cancel_job = CancelJob.Field()
    split_job = SplitJob.Field()
