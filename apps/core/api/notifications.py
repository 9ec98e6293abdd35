"""REST for a person's own notifications and for their browsers' Web Push subscriptions."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.db.models import QuerySet
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from ..models import Notification
from ..notifications import mark_read, subscribe_push, unsubscribe_push, vapid_keys
from ..permissions import AUTHENTICATED
from .viewsets import ShopReadOnlyViewSet


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    class Meta:
        model = Notification
        fields = ("id", "kind", "title", "body", "url", "created_at", "read_at")
        read_only_fields = fields


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label="unread")

    class Meta:
        model = Notification
        fields = ("kind", "unread")


class MarkReadSerializer(serializers.Serializer[Any]):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=1000)


class PushKeysSerializer(serializers.Serializer[Any]):
    p256dh = serializers.CharField(max_length=200)
    auth = serializers.CharField(max_length=100)


class PushSubscriptionSerializer(serializers.Serializer[Any]):
    """What `PushSubscription.toJSON()` gives in the browser."""

    endpoint = serializers.CharField(max_length=1000)
    keys = PushKeysSerializer()


class PushUnsubscribeSerializer(serializers.Serializer[Any]):
    endpoint = serializers.CharField(max_length=1000)


class NotificationViewSet(ShopReadOnlyViewSet):
    """The signed-in person's notifications, newest first; nobody sees another's."""

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ("created_at",)
    action_permissions = {"list": AUTHENTICATED, "retrieve": AUTHENTICATED, "read": AUTHENTICATED}

    def get_queryset(self) -> QuerySet[Notification]:
        return Notification.objects.filter(user=cast(Any, self.request.user)).order_by("-created_at", "-pk")

    @extend_schema(
        request=MarkReadSerializer,
        responses=inline_serializer("MarkReadResult", {"marked": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"])
    def read(self, request: Request) -> Response:
        body = MarkReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response({"marked": mark_read(request.user, body.validated_data["ids"])})


class PushKeyView(APIView):
    """The server's VAPID public key (base64url), for `pushManager.subscribe({applicationServerKey})`."""

    required_permission = AUTHENTICATED

    @extend_schema(responses=inline_serializer("PushKey", {"public_key": serializers.CharField()}))
    def get(self, request: Request) -> Response:
        return Response({"public_key": vapid_keys().public_key})


class PushSubscriptionView(APIView):
    """Register this browser for Web Push (POST) or stop it (DELETE, by endpoint)."""

    required_permission = AUTHENTICATED

    @extend_schema(request=PushSubscriptionSerializer, responses={201: None})
    def post(self, request: Request) -> Response:
        body = PushSubscriptionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        subscribe_push(
            request.user,
            data["endpoint"],
            data["keys"]["p256dh"],
            data["keys"]["auth"],
            request.headers.get("User-Agent", ""),
        )
        return Response(status=status.HTTP_201_CREATED)

    @extend_schema(request=PushUnsubscribeSerializer, responses={204: None})
    def delete(self, request: Request) -> Response:
        body = PushUnsubscribeSerializer(data=request.data or request.query_params)
        body.is_valid(raise_exception=True)
        unsubscribe_push(request.user, body.validated_data["endpoint"])
        return Response(status=status.HTTP_204_NO_CONTENT)


def register(router: DefaultRouter) -> None:
    router.register("notifications", NotificationViewSet, basename="core-notification")


urlpatterns = [
    path("push/key/", PushKeyView.as_view(), name="core-push-key"),
    path("push/subscriptions/", PushSubscriptionView.as_view(), name="core-push-subscriptions"),
]
