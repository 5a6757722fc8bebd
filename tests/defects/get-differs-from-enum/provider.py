"""get-differs-from-enum: GetInstance and enumeration disagree on a non-key property."""

from wbemconform.mock import ConformsToProfileProvider


class GetDiffersAssociation(ConformsToProfileProvider):
    """Enumeration fills ConformanceStatus; GetInstance builds the instance
    from the path's keys only and so leaves it out."""

    def __init__(self):
        super().__init__("ZooProcessAssociation")

    def association(self, namespace, binding, element):
        inst = super().association(namespace, binding, element)
        inst["ConformanceStatus"] = "Conformant"
        return inst

    def get_instance(self, namespace, path):
        inst = super().get_instance(namespace, path)
        if inst is None:
            return None
        out = inst.copy()
        del out["ConformanceStatus"]
        return out
