"""Test helpers every app reuses: signed-in clients per role and the API contract classes.

A resource's test declares its model, URL and sample data and inherits the cases every resource
must pass (NetBox's API view test cases are the model):

    class TestJobAPI(ResourceContract):
        basename = "core-job"
        allowed_role = "supervisor"
        graphql_list = "backgroundJobs"
        graphql_fields = "id name status"

        def make_object(self): ...
        def expected(self, obj): ...          # the exact JSON of one row
        filter_case = ("status", "failed")    # a filter that keeps only the second object
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

OUTSIDER = "outsider"


def verified_client(user: Any, client_class: type[Client] = APIClient) -> Any:
    """A client signed in as `user` with a confirmed second factor, as after a real login."""
    client = client_class()
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def graphql(client: Client, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post(
        "/graphql/", json.dumps({"query": query, "variables": variables or {}}), content_type="application/json"
    )
    assert response.status_code in (200, 400), response.content
    return dict(response.json())


def first_error_code(result: dict[str, Any]) -> str | None:
    errors = result.get("errors") or []
    return errors[0].get("extensions", {}).get("code") if errors else None


@dataclass(frozen=True)
class ActionCase:
    """A workflow action (`POST <detail>/<name>/`) with who may run it and what it changes."""

    name: str
    allowed_role: str
    denied_role: str
    body: dict[str, Any] = field(default_factory=dict)
    state: Callable[[Model], Any] = lambda obj: None  # what the action changes, read back fresh
    expected_status: int = 200


class ResourceContract(ABC):
    """Cases every REST resource passes; subclasses declare the resource (see module doc)."""

    basename: ClassVar[str]
    allowed_role: ClassVar[str]
    denied_role: ClassVar[str] = OUTSIDER
    graphql_list: ClassVar[str] = ""
    graphql_fields: ClassVar[str] = "id"
    filter_case: ClassVar[tuple[str, str] | None] = None
    create_data: ClassVar[dict[str, Any] | None] = None
    create_role: ClassVar[str] = ""
    actions: ClassVar[tuple[ActionCase, ...]] = ()

    # --- to be provided by the subclass ---
    @abstractmethod
    def make_object(self, index: int) -> Model:
        """Make the index-th sample row (0, 1, 2 ...); rows must differ in the filter field."""

    @abstractmethod
    def expected(self, obj: Model) -> dict[str, Any]:
        """The exact JSON of one row, as the API returns it."""

    # --- helpers ---
    def list_url(self) -> str:
        return reverse(f"{self.basename}-list")

    def detail_url(self, obj: Model) -> str:
        return reverse(f"{self.basename}-detail", kwargs={"pk": obj.pk})

    def model(self) -> type[Model]:
        return type(self.make_object(0))

    @staticmethod
    def _fresh(obj: Model) -> Model:
        return type(obj)._default_manager.get(pk=obj.pk)

    # --- the contract ---
    def test_anonymous_is_refused(self, db: Any) -> None:
        obj = self.make_object(0)
        assert APIClient().get(self.list_url()).status_code == 401
        assert APIClient().get(self.detail_url(obj)).status_code == 401

    def test_role_without_permission_is_refused(self, db: Any, client_for: Callable[[str], Any]) -> None:
        obj = self.make_object(0)
        client = client_for(self.denied_role)
        assert client.get(self.list_url()).status_code == 403
        assert client.get(self.detail_url(obj)).status_code == 403

    def test_allowed_role_reads_exact_values(self, db: Any, client_for: Callable[[str], Any]) -> None:
        obj = self.make_object(0)
        client = client_for(self.allowed_role)
        response = client.get(self.detail_url(obj))
        assert response.status_code == 200, response.content
        assert response.json() == self.expected(obj)
        listed = client.get(self.list_url(), {"page_size": 500}).json()
        assert self.expected(obj) in listed["results"]

    def test_list_is_paginated(self, db: Any, client_for: Callable[[str], Any]) -> None:
        objects = [self.make_object(i) for i in range(3)]
        total = type(objects[0])._default_manager.count()
        page = client_for(self.allowed_role).get(self.list_url(), {"page_size": 2}).json()
        assert page["count"] == total
        assert len(page["results"]) == 2
        assert page["next"] is not None

    def test_list_is_filterable(self, db: Any, client_for: Callable[[str], Any]) -> None:
        if self.filter_case is None:
            raise AssertionError(f"{type(self).__name__} must declare filter_case")
        self.make_object(0)
        kept = self.make_object(1)
        name, value = self.filter_case
        page = client_for(self.allowed_role).get(self.list_url(), {name: value, "page_size": 500}).json()
        assert self.expected(kept) in page["results"]
        assert all(str(row[name]).lower() == value.lower() for row in page["results"] if name in row)
        assert page["count"] < type(kept)._default_manager.count()

    def test_graphql_read(self, db: Any, client_for: Callable[[str], Any]) -> None:
        if not self.graphql_list:
            return
        obj = self.make_object(0)
        result = graphql(
            client_for(self.allowed_role), f"{{ {self.graphql_list}(first: 500) {{ {self.graphql_fields} }} }}"
        )
        assert "errors" not in result, result
        ids = [str(row["id"]) for row in result["data"][self.graphql_list]]
        assert str(obj.pk) in ids

    def test_graphql_forbidden(self, db: Any, client_for: Callable[[str], Any]) -> None:
        if not self.graphql_list:
            return
        self.make_object(0)
        result = graphql(client_for(self.denied_role), f"{{ {self.graphql_list} {{ {self.graphql_fields} }} }}")
        assert first_error_code(result) == "FORBIDDEN"
        assert not (result.get("data") or {}).get(self.graphql_list)

    def test_create(self, db: Any, client_for: Callable[[str], Any]) -> None:
        if self.create_data is None:
            return
        model = self.model()
        before = model._default_manager.count()
        denied = client_for(self.denied_role).post(self.list_url(), self.create_data, format="json")
        assert denied.status_code == 403
        assert model._default_manager.count() == before
        allowed = client_for(self.create_role or self.allowed_role).post(
            self.list_url(), self.create_data, format="json"
        )
        assert allowed.status_code == 201, allowed.content
        assert model._default_manager.count() == before + 1

    def test_actions(self, db: Any, client_for: Callable[[str], Any]) -> None:
        for case in self.actions:
            obj = self.make_object(0)
            url = f"{self.detail_url(obj)}{case.name}/"
            before = case.state(self._fresh(obj))
            denied = client_for(case.denied_role).post(url, case.body, format="json")
            assert denied.status_code == 403, f"{case.name}: {denied.content!r}"
            assert case.state(self._fresh(obj)) == before, f"{case.name} changed something although refused"
            allowed = client_for(case.allowed_role).post(url, case.body, format="json")
            assert allowed.status_code == case.expected_status, f"{case.name}: {allowed.content!r}"
            assert case.state(self._fresh(obj)) != before, f"{case.name} changed nothing"
