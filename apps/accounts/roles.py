"""The permission matrix: which role holds which permission. The one place it is written down.

`manage.py create_role_groups` makes one Django group per role with exactly these permissions,
and `manage.py permission_matrix` writes docs/permissions.md from this module and the routes.
Each app adds its codenames here as it arrives; a test fails if a codename does not exist.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

OPERATOR = "operator"
SUPERVISOR = "supervisor"
PLANNER = "planner"
QUALITY = "quality"
MAINTENANCE = "maintenance"
PRODUCTION_MANAGER = "production_manager"
ADMIN = "admin"

ROLES: tuple[str, ...] = (OPERATOR, SUPERVISOR, PLANNER, QUALITY, MAINTENANCE, PRODUCTION_MANAGER, ADMIN)

ROLE_LABELS = {
    OPERATOR: _("operator"),
    SUPERVISOR: _("supervisor"),
    PLANNER: _("planner"),
    QUALITY: _("quality"),
    MAINTENANCE: _("maintenance"),
    PRODUCTION_MANAGER: _("production manager"),
    ADMIN: _("administrator"),
}

# Every role but the operator's signs in with a second factor; so does anyone with admin access.
TWO_FACTOR_ROLES = frozenset(ROLES) - {OPERATOR}

# Roles whose members may open the Django admin (what they see there follows their permissions).
STAFF_ROLES = frozenset({PRODUCTION_MANAGER, ADMIN})


def _model_perms(app_label: str, verbs: str, *models: str) -> set[str]:
    return {f"{app_label}.{verb}_{model}" for verb in verbs.split() for model in models}


# Operators view schedule, jobs and machines.
_OPERATOR: frozenset[str] = frozenset(
    _model_perms(
        "machines",
        "view",
        "department",
        "workcentertype",
        "workcenter",
        "shiftcalendar",
        "shift",
        "shiftbreak",
        "calendarexception",
        "downtimereason",
        "machinestateinterval",
        "alarm",
        "livestate",
    )
    | {"machines.assign_downtime_reason", "machines.acknowledge_alarm"}
    | _model_perms("inventory", "view", "material")
    | _model_perms("routings", "view", "customer", "part", "partfile", "routingstep", "job", "operation")
    | _model_perms("scheduling", "view", "schedule", "scheduleslot", "changeovertime")
    # The shop floor: clock in, work operations, report issues; lists show operators their own rows.
    | {"shopfloor.execute_operation", "shopfloor.add_issuereport", "shopfloor.view_issuereport"}
    | _model_perms("shopfloor", "view", "scrapreason", "attendance", "laborentry", "productionevent")
)

# Who acknowledges and closes issue reports from the floor.
_RESOLVE_ISSUES = {"shopfloor.resolve_issuereport"}

# Raw telemetry (samples, roll-ups, gaps, rejected messages): for the people who chase a machine's data.
_TELEMETRY_VIEW = _model_perms("telemetry", "view", "sample", "sampleblock", "hourlyrollup", "streamgap", "deadletter")

# OEE dashboards and the report archive: everyone who runs or supports the floor, not operators.
_REPORTS_READ = {"reports.view_oee", "reports.view_oeetarget", "reports.view_reportrun", "reports.view_reportdelivery"}

# Supervisors also edit the schedule, create jobs, view reports, trigger the advisor, and read
# the log panel and the background jobs.
_SUPERVISOR = (
    _OPERATOR
    | _TELEMETRY_VIEW
    | {
        "core.view_job",
        "core.view_operatorlogrecord",
        "routings.add_job",
        "routings.change_job",
        "routings.change_operation",
        "routings.hold_job",
        "routings.split_job",
        "scheduling.change_scheduleslot",
        "shopfloor.correct_labor",
        "reports.add_reportrun",
    }
    | _RESOLVE_ISSUES
    | _REPORTS_READ
)

# Planners work the schedule like supervisors, and bring in and release the week's jobs.
_PLANNER = _SUPERVISOR | {
    "routings.release_job",
    "routings.import_master_data",
    "scheduling.plan_schedule",
    "core.cancel_job",
}

# Quality and maintenance staff see what operators see plus their own areas and the log panel.
_QUALITY = _OPERATOR | _RESOLVE_ISSUES | _REPORTS_READ | {"core.view_operatorlogrecord"}
# Maintenance also reads raw telemetry and may write to a machine over OPC UA (the one audited write path).
_MAINTENANCE = (
    _OPERATOR
    | _TELEMETRY_VIEW
    | _RESOLVE_ISSUES
    | _REPORTS_READ
    | {"core.view_operatorlogrecord", "telemetry.write_opcua"}
    | _model_perms("machines", "add change", "calendarexception")
)

# Production managers also approve schedules, release jobs, configure machines, export reports,
# approve advisor proposals, cancel background work and see who has which account.
_PRODUCTION_MANAGER = (
    _SUPERVISOR
    | _PLANNER
    | _MAINTENANCE
    | {"core.cancel_job", "accounts.view_user", "routings.cancel_job", "scheduling.publish_schedule"}
    | _model_perms("scheduling", "add change delete", "changeovertime")
    | _model_perms(
        "machines",
        "add change",
        "department",
        "workcentertype",
        "workcenter",
        "shiftcalendar",
        "shift",
        "shiftbreak",
        "calendarexception",
    )
    | _model_perms("inventory", "add change", "material")
    | _model_perms("routings", "add change", "customer", "part", "partfile", "routingstep")
    | _model_perms("machines", "add change", "downtimereason", "displaytoken")
    | _model_perms("shopfloor", "add change", "scrapreason")
    # Report schedules, the plant's OEE targets, and retrying a failed delivery.
    | _model_perms("reports", "view add change delete", "reportschedule")
    | _model_perms("reports", "add change delete", "oeetarget")
    | _model_perms("reports", "view add change delete", "laborrate")
    | {"reports.change_reportrun"}
    | {"machines.view_displaytoken", "machines.change_machinestateinterval", "telemetry.delete_deadletter"}
    | {
        "routings.delete_partfile",
        "routings.delete_routingstep",
        "machines.delete_calendarexception",
        "machines.delete_shift",
        "machines.delete_shiftbreak",
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    OPERATOR: frozenset(_OPERATOR),
    SUPERVISOR: frozenset(_SUPERVISOR),
    PLANNER: frozenset(_PLANNER),
    QUALITY: frozenset(_QUALITY),
    MAINTENANCE: frozenset(_MAINTENANCE),
    PRODUCTION_MANAGER: frozenset(_PRODUCTION_MANAGER),
}
# ADMIN holds every permission that exists; create_role_groups resolves it at run time.
ALL_PERMISSIONS = "__all__"

ROLE_DESCRIPTIONS: dict[str, str] = {
    OPERATOR: "Runs machines: views schedule, jobs and machines, works the queue on the phone app.",
    SUPERVISOR: "Runs a department: edits the schedule, creates jobs, reads reports, asks the advisor.",
    PLANNER: "Plans the shop: like a supervisor, focused on the schedule.",
    QUALITY: "Inspections, SPC and nonconformance reports.",
    MAINTENANCE: "Preventive and corrective maintenance of machines.",
    PRODUCTION_MANAGER: "Approves schedules, releases jobs, configures machines, exports reports, "
    "approves advisor proposals.",
    ADMIN: "Everything, including users, roles and API tokens.",
}
