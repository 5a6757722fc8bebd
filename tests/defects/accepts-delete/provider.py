"""accepts-delete: an association provider that honours DeleteInstance."""

from wbemconform.mock import ConformsToProfileProvider
from wbemconform.paths import path_key


class DeletableAssociation(ConformsToProfileProvider):
    """DeleteInstanceAsync implemented: the deleted pair is hidden from then on."""

    def __init__(self):
        super().__init__("ZooProcessAssociation")
        self.deleted = set()

    def table(self, namespace, classname):
        binding, rows = super().table(namespace, classname)
        return binding, {k: v for k, v in rows.items() if k not in self.deleted}

    def delete_instance(self, namespace, path):
        element = path.keybindings.get(self.ELEMENT_ROLE)
        if element is not None:
            self.deleted.add(path_key(element, namespace))
