"""The route half of the permission matrix: what every URL and GraphQL mutation requires.

Routes declare their access on the view (`required_permission`, or the model permission a REST
action maps to); library routes (the admin site, allauth's sign-in pages) follow the rules below.
`manage.py permission_matrix` renders this with roles.py into docs/permissions.md, and the RBAC
test requests every route as every role and compares the answer with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from apps.core.api.permissions import ACTION_VERBS
from apps.core.permissions import AUTHENTICATED, PUBLIC

from .roles import ADMIN, ROLE_PERMISSIONS, ROLES, STAFF_ROLES

# Access levels for routes that libraries serve.
ADMIN_SITE = "admin site (staff with a verified second factor; model permissions inside)"
SIGN_IN_PAGES = "allauth sign-in pages (public; account pages need a session)"
UNDECLARED = "UNDECLARED"

# Apps whose every permission is listed in the document (third-party ones only through roles.py).
MATRIX_APPS = ("core", "accounts", "machines", "telemetry", "inventory", "routings", "scheduling")

SAMPLE_VALUES = {
    "int": "999999",
    "str": "zzz",
    "slug": "zzz",
    "path": "zzz",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


@dataclass(frozen=True)
class Route:
    pattern: str
    name: str
    access: str
    sample_path: str
    method: str  # the method the walker uses: GET where the route answers it, else POST


def role_has(role: str, access: str) -> bool:
    """Whether a member of `role` (and nothing else) passes `access`, per the written matrix."""
    if access in (PUBLIC, AUTHENTICATED):
        return True
    if access == ADMIN_SITE:
        return role in STAFF_ROLES
    if role == ADMIN:
        return True
    return access in ROLE_PERMISSIONS[role]


def view_access(callback: Any) -> str:
    """The access a view callback declares, or UNDECLARED."""
    cls = getattr(callback, "cls", None)  # DRF views and viewsets
    if cls is not None:
        actions: dict[str, str] = getattr(callback, "actions", None) or {}
        declared: dict[str, str] = getattr(cls, "action_permissions", {})
        action = actions.get("get") or next(iter(actions.values()), None)
        if action in declared:
            return declared[action]
        queryset = getattr(cls, "queryset", None)
        if action in ACTION_VERBS and queryset is not None:
            meta = queryset.model._meta
            return f"{meta.app_label}.{ACTION_VERBS[action]}_{meta.model_name}"
        return str(getattr(cls, "required_permission", "") or UNDECLARED)
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return str(getattr(view_class, "required_permission", "") or UNDECLARED)
    return str(getattr(callback, "required_permission", "") or UNDECLARED)


def _method(callback: Any) -> str:
    actions = getattr(callback, "actions", None)
    if actions:
        return "get" if "get" in actions else next(iter(actions))
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is not None and not hasattr(view_class, "get"):
        return "post"
    return "get"


def _sample(pattern: str, converters: dict[str, Any]) -> str:
    path = pattern
    for key, converter in converters.items():
        kind = type(converter).__name__.replace("Converter", "").lower()
        path = re.sub(rf"<(?:\w+:)?{key}>", SAMPLE_VALUES.get(kind, "zzz"), path)
    path = re.sub(r"\(\?P<format>[^)]*\)", "json", path)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "999999", path)
    return "/" + path.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/")


def _walk(
    resolver: URLResolver, prefix: str, namespace: str, converters: dict[str, Any], owner: str
) -> Iterator[tuple[str, str, Any, dict[str, Any], str]]:
    """Every (pattern, name, callback, converters, owning urlconf) below `resolver`."""
    for entry in resolver.url_patterns:
        pattern = str(entry.pattern)
        entry_converters = {**converters, **getattr(entry.pattern, "converters", {})}
        if isinstance(entry, URLResolver):
            ns = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace or namespace
            module = "" if isinstance(entry.urlconf_module, list) else getattr(entry.urlconf_module, "__name__", "")
            yield from _walk(entry, prefix + pattern, ns or "", entry_converters, owner or module)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or ""
            yield prefix + pattern, name, entry.callback, entry_converters, owner


def _display(pattern: str) -> str:
    return "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", pattern).replace("^", "").replace("$", "")


def graphql_mutations() -> dict[str, str]:
    """Each GraphQL mutation field and the access its class declares."""
    from graphene.utils.str_converters import to_camel_case

    from cnc_copilot.schema import Mutation

    return {
        to_camel_case(name): str(getattr(field.type, "required_permission", "") or UNDECLARED)
        for name, field in Mutation._meta.fields.items()
    }


def routes() -> list[Route]:
    found: list[Route] = []
    for pattern, name, callback, converters, owner in _walk(get_resolver(), "", "", {}, ""):
        if pattern.startswith("admin/"):
            access = ADMIN_SITE
        elif owner.startswith("allauth"):
            access = SIGN_IN_PAGES
        else:
            access = view_access(callback)
        found.append(
            Route(
                pattern=pattern,
                name=name,
                access=access,
                sample_path=_sample(pattern, converters),
                method=_method(callback),
            )
        )
    return found


def render_markdown() -> str:
    """docs/permissions.md: roles x permissions, then every route with the roles that may use it."""
    from django.contrib.auth.models import Permission

    lines = [
        "# Permission matrix",
        "",
        "Generated by `python manage.py permission_matrix` from `apps/accounts/roles.py` and the views;",
        "do not edit by hand. The RBAC test requests every route below as every role and checks this table.",
        "",
        "## Roles and their permissions",
        "",
        "| permission | " + " | ".join(ROLES) + " |",
        "| --- | " + " | ".join("---" for _ in ROLES) + " |",
    ]
    everything = sorted(
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.select_related("content_type").filter(content_type__app_label__in=MATRIX_APPS)
        if not p.content_type.model.startswith("historical")
    )
    listed = sorted(set().union(*ROLE_PERMISSIONS.values()) | set(everything))
    for perm in listed:
        cells = ["yes" if role_has(role, perm) else "" for role in ROLES]
        lines.append(f"| `{perm}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "The admin role holds every permission. Roles that need a second factor: every role but operator.",
        "",
        "## Routes",
        "",
        "| path | name | requires | " + " | ".join(ROLES) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in ROLES) + " |",
    ]
    seen: set[tuple[str, str]] = set()
    for route in routes():
        if route.access in (ADMIN_SITE, SIGN_IN_PAGES) or "(?P<format>" in route.pattern:
            continue
        key = (route.pattern, route.access)
        if key in seen:
            continue
        seen.add(key)
        cells = ["yes" if role_has(role, route.access) else "" for role in ROLES]
        lines.append(f"| `{_display(route.pattern)}` | `{route.name}` | `{route.access}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## GraphQL mutations",
        "",
        "| mutation | requires | " + " | ".join(ROLES) + " |",
        "| --- | --- | " + " | ".join("---" for _ in ROLES) + " |",
    ]
    for name, access in sorted(graphql_mutations().items()):
        cells = ["yes" if role_has(role, access) else "" for role in ROLES]
        lines.append(f"| `{name}` | `{access}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "GraphQL queries check the same view permissions as the REST list of the same rows.",
        "",
        f"- `/admin/…`: {ADMIN_SITE}; staff roles: {', '.join(sorted(STAFF_ROLES))}.",
        f"- `/accounts/…` from django-allauth: {SIGN_IN_PAGES}.",
        "",
    ]
    return "\n".join(lines)
