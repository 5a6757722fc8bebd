"""namespace-dependent-provider: an association provider that depends on the namespace it serves."""

from wbemconform.mock import ConformsToProfileProvider


class NamespaceDependentAssociation(ConformsToProfileProvider):
    """The generic provider, except that outside root/interop it skips the
    System process (Handle 4), as its own per-namespace query does."""

    def __init__(self):
        super().__init__("ZooProcessAssociation")

    def table(self, namespace, classname):
        binding, rows = super().table(namespace, classname)
        if namespace.strip("/").lower() == "root/interop":
            return binding, rows
        return binding, {key: inst for key, inst in rows.items()
                         if inst[self.ELEMENT_ROLE].keybindings.get("Handle") != "4"}
