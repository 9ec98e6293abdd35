import graphene


class RoutingsQuery(graphene.ObjectType):
    pass


class RoutingsMutation(graphene.ObjectType):
    pass
