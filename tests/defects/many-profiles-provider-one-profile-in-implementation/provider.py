"""many-profiles-provider-one-profile-in-implementation.

A provider written for one profile per class and extended to several: its
interop-side code walks every profile, but its implementation-side code path
still stops after the first one (the Array profile), and so serves only the
Array's elements there.
"""

from wbemconform.mock import ConformsToProfileProvider


class OneProfileOnImplementationSide(ConformsToProfileProvider):
    def __init__(self):
        super().__init__("ContosoStorageAssociation")

    def bindings(self, namespace, classname):
        if namespace.strip("/").lower() == "root/interop":
            return super().bindings(namespace, classname)
        return super().bindings(namespace, classname)[:1]
