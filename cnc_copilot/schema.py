"""The GraphQL root: each app contributes <App>Query and <App>Mutation."""

import graphene

from apps.accounts.graphql.schema import AccountsMutation, AccountsQuery
from apps.core.graphql.schema import CoreMutation, CoreQuery
from apps.inventory.graphql.schema import InventoryMutation, InventoryQuery
from apps.machines.graphql.schema import MachinesMutation, MachinesQuery
from apps.reports.graphql.schema import ReportsMutation, ReportsQuery
from apps.routings.graphql.schema import RoutingsMutation, RoutingsQuery
from apps.scheduling.graphql.schema import SchedulingMutation, SchedulingQuery


class Query(
    CoreQuery,
    AccountsQuery,
    MachinesQuery,
    InventoryQuery,
    RoutingsQuery,
    SchedulingQuery,
    ReportsQuery,
    graphene.ObjectType,
):
    pass


class Mutation(
    CoreMutation,
    AccountsMutation,
    MachinesMutation,
    InventoryMutation,
    RoutingsMutation,
    SchedulingMutation,
    ReportsMutation,
    graphene.ObjectType,
):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
