"""referenced-profile-dangling: a CIM_ReferencedProfile provider naming an unregistered profile."""

from pywbem import CIMInstance, CIMInstanceName

from wbemconform.mock import InstanceProvider


class ReferencedProfiles(InstanceProvider):
    """Serves Zoo_ReferencedProfile in root/interop: Process Extensions
    (Dependent) references Process (Antecedent). Process Extensions is not
    registered."""

    def __init__(self):
        self.name = "ZooReferencedProfiles"

    def enumerate_instances(self, namespace, classname):
        process = CIMInstanceName("ZooProcessProfile", namespace=namespace,
                                  keybindings={"InstanceID": "Zoo:Process"})
        extensions = CIMInstanceName("ZooProcessProfile", namespace=namespace,
                                     keybindings={"InstanceID": "Zoo:ProcessExtensions"})
        path = CIMInstanceName(classname, namespace=namespace,
                               keybindings={"Antecedent": process, "Dependent": extensions})
        inst = CIMInstance(classname, path=path)
        inst["Antecedent"] = process
        inst["Dependent"] = extensions
        return [inst]
