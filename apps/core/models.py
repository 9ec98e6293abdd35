from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import FINISHED_JOB_STATUSES, JobStatus


class TimeStampedModel(models.Model):
    """Base of every table: when a row was created and last changed (UTC)."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class Job(TimeStampedModel):
    """A long-running piece of work people wait for: a schedule run, an import, a report, a sync.

    Shown on the background-jobs page with its progress and log, so nobody has to guess whether
    the planner is still solving or the Sigmanest sync died overnight.
    """

    kind = models.CharField(_("kind"), max_length=64, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(_("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="background_jobs",
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    progress_detail = models.JSONField(_("progress detail"), default=dict, blank=True)
    log = models.TextField(_("log"), blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("status", "-created_at"))]
        constraints = [models.CheckConstraint(condition=models.Q(progress__lte=100), name="core_job_progress_max_100")]
        permissions = [("cancel_job", _("Can cancel a background job"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_JOB_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class OperatorLogRecord(models.Model):
    """A message for the people running the shop, in plain words (WARNING and up).

    Written by the `operator` logger (see docs/logging.md) and shown to supervisors in the log
    panel: "Laser 2 stopped reporting at 06:12", not a stack trace.
    """

    logged_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    level = models.CharField(_("level"), max_length=10)
    source = models.CharField(_("source"), max_length=100)
    message = models.TextField(_("message"))
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("operator log record")
        verbose_name_plural = _("operator log records")
        ordering = ("-logged_at",)

    def __str__(self) -> str:
        return f"{self.logged_at:%Y-%m-%d %H:%M} {self.level} {self.message[:60]}"


class Notification(TimeStampedModel):
    """A message for one person: "New issue on Laser 2: …", "Your issue was acknowledged by Ana".

    Listed on the notifications page and sent to their phones by Web Push; `url` is the page it is about.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=50)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ("-created_at", "-pk")
        indexes = [
            models.Index(fields=("user", "-created_at")),
            models.Index(fields=("user", "read_at")),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.title}"


class PushSubscription(models.Model):
    """One browser or phone that agreed to receive Web Push for a person (its push service endpoint and keys).

    A subscription the push service says is gone (404/410) is deleted; other failures are counted.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(_("endpoint"), max_length=1000, unique=True)
    p256dh = models.CharField(_("public key (p256dh)"), max_length=200)
    auth = models.CharField(_("auth secret"), max_length=100)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_success_at = models.DateTimeField(_("last delivered"), null=True, blank=True)
    failures = models.PositiveIntegerField(_("failures since last delivery"), default=0)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.user} {self.user_agent[:40] or self.endpoint[:40]}"
