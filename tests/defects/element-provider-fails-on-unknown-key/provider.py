"""element-provider-fails-on-unknown-key: an element provider that fails on unknown keys."""

from pywbem import CIMError, CIMInstance, CIMInstanceName, Uint32
from pywbem._cim_constants import CIM_ERR_FAILED

from wbemconform.mock import InstanceProvider
from wbemconform.paths import path_key

PROCESSES = ((4, "System"), (388, "smss.exe"), (2816, "WmiPrvSE.exe"))


class ZooProcessProvider(InstanceProvider):
    """Serves Zoo_Process. GetObjectAsync looks the handle up and, when the
    process does not exist, fails with CIM_ERR_FAILED (the OpenProcess error
    passed on), where CIM_ERR_NOT_FOUND is due."""

    def __init__(self):
        self.name = "ZooProcessProvider"

    def enumerate_instances(self, namespace, classname):
        out = []
        for pid, name in PROCESSES:
            keys = {"CSCreationClassName": "Win32_ComputerSystem", "CSName": "ZOOHOST",
                    "OSCreationClassName": "Win32_OperatingSystem",
                    "OSName": "Microsoft Windows", "CreationClassName": classname,
                    "Handle": str(pid)}
            path = CIMInstanceName(classname, keybindings=keys, namespace=namespace)
            inst = CIMInstance(classname, path=path)
            for key, value in keys.items():
                inst[key] = value
            inst["Name"] = name
            inst["ProcessId"] = Uint32(pid)
            out.append(inst)
        return out

    def get_instance(self, namespace, path):
        want = path_key(path, namespace)
        for inst in self.enumerate_instances(namespace, path.classname):
            if path_key(inst.path, namespace) == want:
                return inst
        raise CIMError(CIM_ERR_FAILED, f"OpenProcess failed for handle "
                                       f"{path.keybindings.get('Handle')!r}")

