"""The GraphQL root: each app contributes <App>Query and <App>Mutation."""

import graphene

from apps.accounts.graphql.schema import AccountsMutation, AccountsQuery
from apps.core.graphql.schema import CoreMutation, CoreQuery


class Query(CoreQuery, AccountsQuery, graphene.ObjectType):
    pass


class Mutation(CoreMutation, AccountsMutation, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
