from __future__ import annotations

from typing import Any

import graphene
from graphql import GraphQLError

from ..models import Job
from ..permissions import CANCEL_JOB, VIEW_JOB
from ..services import request_job_cancel
from .base import ShopMutation, check_access, list_field, resolve_list
from .types import BackgroundJobType, OperatorLogRecordType


class CoreQuery(graphene.ObjectType):
    background_jobs = list_field(BackgroundJobType, status=graphene.String(), kind=graphene.String())
    background_job = graphene.Field(BackgroundJobType, id=graphene.ID(required=True))
    operator_log = list_field(OperatorLogRecordType, level=graphene.String())

    def resolve_background_jobs(self, info: Any, **kwargs: Any) -> Any:
        return resolve_list(BackgroundJobType, info, **kwargs)

    def resolve_background_job(self, info: Any, id: str) -> Job | None:
        check_access(info, VIEW_JOB)
        return Job.objects.filter(pk=id).first()

    def resolve_operator_log(self, info: Any, **kwargs: Any) -> Any:
        return resolve_list(OperatorLogRecordType, info, **kwargs)


class CancelBackgroundJob(ShopMutation):
    required_permission = CANCEL_JOB

    class Arguments:
        id = graphene.ID(required=True)

    job = graphene.Field(BackgroundJobType)

    @classmethod
    def perform(cls, root: Any, info: Any, id: str) -> CancelBackgroundJob:
        job = Job.objects.filter(pk=id).first()
        if job is None:
            raise GraphQLError("No such background job.", extensions={"code": "NOT_FOUND"})
        return CancelBackgroundJob(job=request_job_cancel(actor=info.context.user, job_id=job.pk))


class CoreMutation(graphene.ObjectType):
    cancel_background_job = CancelBackgroundJob.Field()
