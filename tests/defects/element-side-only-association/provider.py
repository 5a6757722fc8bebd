"""element-side-only-association: an association provider that answers only
from the element's side (what a second, real CIM server did for DMTF
Indications: its indication service reached the profile, nothing reached
back, enumeration did not list the instance, GetInstance of its path failed)."""

from pywbem import CIMInstance, CIMInstanceName

from wbemconform.mock import InstanceProvider
from wbemconform.paths import path_key

PROFILE = CIMInstanceName("Contoso_RegisteredProfile", namespace="root/interop",
                          keybindings={"InstanceID": "Contoso:DMTF:Indications:1.1.0"})
SERVICE = CIMInstanceName("CIM_IndicationService", namespace="root/cimv2", keybindings={
    "SystemCreationClassName": "CIM_ComputerSystem", "SystemName": "zoo-host",
    "CreationClassName": "CIM_IndicationService", "Name": "zoo indication service"})


class ElementSideOnly(InstanceProvider):
    """Serves Contoso_Indications_ElementConformsToProfile_v1: one link,
    Indications -> the indication service, returned only when the service
    asks for its associations."""

    def __init__(self):
        self.name = "ContosoIndicationsAssociation"

    def enumerate_instances(self, namespace, classname):
        return []  # the defect: the instance is not listed

    def get_instance(self, namespace, path):
        return None  # ... and cannot be got

    def references_to(self, namespace, classname, target):
        if path_key(target, namespace) != path_key(SERVICE):
            return []  # the profile's side finds nothing
        path = CIMInstanceName(classname, namespace=namespace,
                               keybindings={"ConformantStandard": PROFILE,
                                            "ManagedElement": SERVICE})
        inst = CIMInstance(classname, path=path)
        inst["ConformantStandard"] = PROFILE
        inst["ManagedElement"] = SERVICE
        return [inst]
