"""get-nonexistent-returns-instance: GetInstance echoes any path back."""

from pywbem import CIMInstance

from wbemconform.mock import ConformsToProfileProvider


class EchoingGetAssociation(ConformsToProfileProvider):
    """GetObjectAsync builds the instance from the path's keys, without
    looking the pair up."""

    def __init__(self):
        super().__init__("ZooProcessAssociation")

    def get_instance(self, namespace, path):
        out = path.copy()
        out.namespace = namespace
        inst = CIMInstance(path.classname, path=out)
        for role in (self.PROFILE_ROLE, self.ELEMENT_ROLE):
            inst[role] = path.keybindings.get(role)
        return inst
