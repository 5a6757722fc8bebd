"""What the broker knows of a namespace's classes, computed once per change
(:class:`Schema`), and the WMI system classes it reads."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ..providers import target_namespace_of

__all__ = ["Schema", "RefProp", "PROVIDER_CLASS", "REGISTRATION_CLASS", "ECTP_CLASS"]

PROVIDER_CLASS = "__Win32Provider"
REGISTRATION_CLASS = "__InstanceProviderRegistration"
ECTP_CLASS = "CIM_ElementConformsToProfile"


@dataclass(frozen=True)
class RefProp:
    name: str
    reference_class: str
    target_namespace: str | None  # from MSFT_TargetNamespace, normalised


class Schema:
    """What the broker needs to know of a namespace's classes, computed once."""

    def __init__(self, class_store, accept_remote=False):
        self.names = {}
        self.superclass = {}
        self.dynamic = {}
        self.associations = {}
        for cls in class_store.iter_values(copy=False):
            lc = cls.classname.lower()
            self.names[lc] = cls.classname
            self.superclass[lc] = cls.superclass.lower() if cls.superclass else None
            q = cls.qualifiers
            if q.get("Dynamic") is not None and q["Dynamic"].value:
                prov = q.get("Provider")
                self.dynamic[lc] = prov.value if prov is not None else None
            if q.get("Association") is not None and q["Association"].value:
                self.associations[lc] = [
                    RefProp(p.name, p.reference_class, target_namespace_of(p, accept_remote))
                    for p in cls.properties.values() if p.type == "reference"]
        self._children = defaultdict(list)
        for lc, sup in self.superclass.items():
            if sup:
                self._children[sup].append(lc)

    def has(self, classname):
        return classname.lower() in self.names

    def ancestry(self, classname):
        """The class and its superclasses, lower case; empty if unknown."""
        out, lc = [], classname.lower()
        while lc is not None and lc in self.names and lc not in out:
            out.append(lc)
            lc = self.superclass[lc]
        return out

    def is_subclass(self, classname, base):
        return base.lower() in self.ancestry(classname)

    def subclasses(self, classname):
        """The class and all its subclasses, lower case."""
        out, todo = set(), [classname.lower()]
        while todo:
            lc = todo.pop()
            if lc in out:
                continue
            out.add(lc)
            todo.extend(self._children.get(lc, ()))
        return out

    def ref(self, assoc_class, role):
        for r in self.associations.get(assoc_class.lower(), ()):
            if r.name.lower() == role.lower():
                return r
        return None
