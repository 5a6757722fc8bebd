"""profile-get-differs-from-enum: a registered profile served by a provider
whose GetInstance leaves out what its enumeration fills."""

from pywbem import CIMInstance, CIMInstanceName, Uint16

from wbemconform.mock import InstanceProvider

CLASS = "ZooDynamicProfile"


class ProfileProvider(InstanceProvider):
    """Serves one ZooDynamicProfile, "Process Extras" (Microsoft); its
    enumeration fills Description, its GetInstance builds the instance from
    the registration table without it."""

    def __init__(self):
        self.name = "ZooProfileProvider"

    def _instance(self, namespace, with_description):
        path = CIMInstanceName(CLASS, namespace=namespace,
                               keybindings={"InstanceID": "Zoo:ProcessExtras"})
        inst = CIMInstance(CLASS, path=path)
        inst["InstanceID"] = "Zoo:ProcessExtras"
        inst["RegisteredName"] = "Process Extras"
        inst["RegisteredOrganization"] = Uint16(1)
        inst["OtherRegisteredOrganization"] = "Microsoft"
        inst["RegisteredVersion"] = "1.0"
        if with_description:
            inst["Description"] = "Extra process counters"
        return inst

    def enumerate_instances(self, namespace, classname):
        if classname.lower() != CLASS.lower():
            return []
        return [self._instance(namespace, True)]

    def get_instance(self, namespace, path):
        if path.keybindings.get("InstanceID") != "Zoo:ProcessExtras":
            return None
        return self._instance(namespace, False)  # the defect: no Description
