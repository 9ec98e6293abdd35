import graphene


class MachinesQuery(graphene.ObjectType):
    pass


class MachinesMutation(graphene.ObjectType):
    pass
