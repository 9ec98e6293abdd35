from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import ApiToken, User
from .services import deactivate_user, issue_api_token


@admin.register(User)
class ShopUserAdmin(SimpleHistoryAdmin, UserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "roles", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "groups")
    search_fields = ("username", "first_name", "last_name", "email")
    fieldsets = (
        *UserAdmin.fieldsets,  # type: ignore[misc]
        (_("Preferences"), {"fields": ("theme", "language")}),
    )
    actions = ("deactivate",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("roles"))
    def roles(self, user: User) -> str:
        return ", ".join(user.role_names)

    @admin.action(description=_("Deactivate: end sessions and revoke API tokens"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            deactivate_user(actor=request.user, user=user)
        self.message_user(request, _("%(n)d users deactivated.") % {"n": queryset.count()})


class ApiTokenIssueForm(forms.ModelForm[ApiToken]):
    valid_days = forms.IntegerField(
        label=_("valid for (days)"),
        min_value=1,
        max_value=3650,
        initial=365,
    )

    class Meta:
        model = ApiToken
        fields = ("user", "name")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Issue tokens here: the token is shown once in a message, only its hash is stored."""

    list_display = ("name", "user", "token_key", "created", "expiry", "last_used_at")
    list_filter = ("expiry",)
    search_fields = ("name", "user__username", "token_key")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    readonly_fields = ("token_key", "created", "expiry", "last_used_at")

    def get_form(self, request: HttpRequest, obj: ApiToken | None = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ApiTokenIssueForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        if obj is None:
            return ("user", "name", "valid_days")
        return ("user", "name", "token_key", "created", "expiry", "last_used_at")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        if obj is None:
            return ()
        return ("user", "token_key", "created", "expiry", "last_used_at")

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        token, plain = issue_api_token(
            actor=request.user,
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            valid_days=form.cleaned_data["valid_days"],
        )
        obj.pk = token.pk
        obj.digest = token.digest
        messages.warning(
            request,
            _("Copy this token now, it will not be shown again: %(token)s") % {"token": plain},
        )
