import graphene


class InventoryQuery(graphene.ObjectType):
    pass


class InventoryMutation(graphene.ObjectType):
    pass
