"""roles-swapped: ConformantStandard and ManagedElement filled the wrong way round."""

from pywbem import CIMInstance, CIMInstanceName

from wbemconform.mock import ConformsToProfileProvider


class SwappedRolesAssociation(ConformsToProfileProvider):
    """The profile goes into ManagedElement, the element into ConformantStandard."""

    def __init__(self):
        super().__init__("ZooProcessAssociation")

    def association(self, namespace, binding, element):
        path = CIMInstanceName(binding.classname, namespace=namespace, keybindings={
            self.PROFILE_ROLE: element, self.ELEMENT_ROLE: binding.profile})
        inst = CIMInstance(binding.classname, path=path)
        inst[self.PROFILE_ROLE] = element
        inst[self.ELEMENT_ROLE] = binding.profile
        return inst

    def get_instance(self, namespace, path):
        # consistent with its own enumeration: look the pair up the other way round
        back = path.copy()
        back.keybindings[self.PROFILE_ROLE] = path.keybindings.get(self.ELEMENT_ROLE)
        back.keybindings[self.ELEMENT_ROLE] = path.keybindings.get(self.PROFILE_ROLE)
        return super().get_instance(namespace, back)
