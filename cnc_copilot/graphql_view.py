"""GraphQL endpoint: session or token authentication, a depth limit, GraphiQL from local files."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from graphene.validation import depth_limit_validator
from graphene_django.views import GraphQLView
from graphql import ExecutionResult, GraphQLError, parse, validate
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from apps.accounts.authentication import ApiTokenAuthentication
from apps.core.permissions import PUBLIC


def _csrf_failure(request: HttpRequest) -> HttpResponseBase | None:
    check = CsrfViewMiddleware(lambda req: HttpResponse())
    check.process_request(request)
    return check.process_view(request, lambda req: HttpResponse(), (), {})


class ShopGraphQLView(GraphQLView):
    """Mounted csrf-exempt so that token clients need no cookie; browser sessions are still
    CSRF-checked here, the way DRF's SessionAuthentication does it."""

    required_permission = PUBLIC  # each field and mutation checks its own permission

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.headers.get("Authorization", "").startswith("Token "):
            try:
                result = ApiTokenAuthentication().authenticate(Request(request))
            except AuthenticationFailed as exc:
                return JsonResponse({"errors": [{"message": str(exc.detail)}]}, status=401)
            if result is not None:
                request.user = result[0]
        elif request.method == "POST":
            rejected = _csrf_failure(request)
            if rejected is not None:
                return rejected
        return super().dispatch(request, *args, **kwargs)

    def execute_graphql_request(
        self,
        request: HttpRequest,
        data: Any,
        query: str | None,
        variables: Any,
        operation_name: str | None,
        show_graphiql: bool = False,
    ) -> Any:
        if query:
            try:
                document = parse(query)
            except GraphQLError:
                document = None
            if document is not None:
                errors = validate(
                    self.schema.graphql_schema,
                    document,
                    [depth_limit_validator(max_depth=settings.GRAPHQL_MAX_DEPTH)],
                )
                if errors:
                    return ExecutionResult(data=None, errors=errors)
        return super().execute_graphql_request(request, data, query, variables, operation_name, show_graphiql)
