"""The schema layer of :mod:`wbemconform.observe`: namespaces, classes and
provider registrations, as the target answers for them.

The interop namespace is the first that answers for CIM_RegisteredProfile
(or the one the user names). The server's namespaces are those its namespace
class lists -- CIM_Namespace, CIM_WBEMServerNamespace or WMI's __Namespace,
in the order pywbem's WBEMServer tries them -- and every namespace an
MSFT_TargetNamespace qualifier of an interop class names (read by
:func:`wbemconform.namespaces.target_namespace_qualifier`, the one reader of
that qualifier). Classes are asked for once per namespace (GetClass with
inherited qualifiers) and their hierarchies remembered.

A target without class retrieval (GetClass; most WS-Management servers)
still answers what the checks ask of classes, from instances: a class is
defined in a namespace where EnumerateInstanceNames of it answers, and a
class is a subclass of what a polymorphic enumeration listed its instances
under (:meth:`Schema.learn_base`); nothing else of its hierarchy is known.
Without class enumeration, the conformance namespaces are those where
EnumerateInstanceNames of CIM_ElementConformsToProfile answers.

Imports :mod:`.operations` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from pywbem import (CIM_ERR_INVALID_CLASS, CIM_ERR_INVALID_NAMESPACE, CIM_ERR_NOT_FOUND,
                    CIMClass, CIMInstanceName, WBEMServer)

from ..namespaces import target_namespace_qualifier
from ..paths import ns_key, path_key, with_namespace
from ..targets.base import TargetSetupError
from .operations import CLASS_ENUMERATION, CLASS_RETRIEVAL, Operations

__all__ = ["Schema", "NamespaceDiscovery", "ECTP", "RP", "REFERENCED_PROFILE",
           "SUBPROFILE_REQUIRES", "REGISTERED_SUBPROFILE", "NAMESPACE_CLASSES",
           "PROFILE_ROLE", "ELEMENT_ROLE"]

ECTP = "CIM_ElementConformsToProfile"
RP = "CIM_RegisteredProfile"
REFERENCED_PROFILE = "CIM_ReferencedProfile"
SUBPROFILE_REQUIRES = "CIM_SubProfileRequiresProfile"
REGISTERED_SUBPROFILE = "CIM_RegisteredSubProfile"
#: the references of CIM_ElementConformsToProfile: the profile's, the element's
PROFILE_ROLE = "ConformantStandard"
ELEMENT_ROLE = "ManagedElement"
#: the classes a server may list its namespaces with, in the order pywbem
#: tries them (WBEMServer.NAMESPACE_CLASSNAMES): SMI-S/DSP0200's CIM_Namespace,
#: DSP1092's CIM_WBEMServerNamespace, WMI's __Namespace
NAMESPACE_CLASSES = ("CIM_Namespace", "CIM_WBEMServerNamespace", "__Namespace")
#: __Namespace lists the children of the namespace it is enumerated in:
#: discovery walks down from root, this deep and this wide at most
NAMESPACE_DEPTH, NAMESPACE_LIMIT = 8, 500
_UNKNOWN = object()
#: what an enumeration of a class a namespace does not define answers
UNDEFINED = (CIM_ERR_INVALID_CLASS, CIM_ERR_INVALID_NAMESPACE, CIM_ERR_NOT_FOUND)


@dataclass
class NamespaceDiscovery:
    """How the server's namespaces were found: the class that listed them
    (CIM_Namespace, CIM_WBEMServerNamespace or __Namespace), the names, and
    the operations that tell."""

    method: str | None  # the class, or None when no class lists any namespace
    names: list
    description: str
    calls: list = field(default_factory=list)

    def lists(self, namespace) -> bool:
        return ns_key(namespace) in {ns_key(n) for n in self.names}


def _unique(names):
    seen, out = set(), []
    for name in names:
        if ns_key(name) not in seen:
            seen.add(ns_key(name))
            out.append(name)
    return out


class Schema(Operations):
    """Namespaces, classes and provider registrations of one target.

    ``interop_namespace``: the interop namespace the user names (None: the
    first of pywbem's WBEMServer.INTEROP_NAMESPACES that answers). Each
    property is determined lazily, on first access, and then kept."""

    def __init__(self, target, interop_namespace=None):
        super().__init__(target)
        self._interop_option = interop_namespace
        # class knowledge, asked for per element: answered from these
        self._classes, self._chains, self._ancestries = {}, {}, {}
        #: without class retrieval: {class lower: [bases]} learned from instances
        self._learned = {}
        #: without class retrieval: {(ns key, class lower)} not known to be defined or not
        self.uncertain = set()

    # -- namespaces -------------------------------------------------------------------

    @cached_property
    def interop_ns(self) -> str:
        """The interop namespace: the one named with --wbem-interop-namespace,
        else the first of WBEMServer.INTEROP_NAMESPACES where
        EnumerateInstanceNames of CIM_RegisteredProfile answers;
        TargetSetupError when none does."""
        candidates = [self._interop_option] if self._interop_option else \
            list(WBEMServer.INTEROP_NAMESPACES)
        tried = []
        for ns in candidates:
            out = self.op("EnumerateInstanceNames", RP, namespace=ns)
            if out.ok:
                return ns
            tried.append(f"{ns}: {out.error.status_code_name}")
            if self._interop_option and (out.status == CIM_ERR_INVALID_CLASS or
                                         out.undetermined):
                return ns  # the user said so; RP-1 will tell the rest
        raise TargetSetupError(
            f"{self.target}: no interop namespace found (tried "
            + "; ".join(tried) + "); name it with --wbem-interop-namespace")

    @cached_property
    def server_info(self) -> dict:
        """{brand, description} of the CIM_ObjectManager, when the server has
        one, and how its namespaces were found (namespace_discovery)."""
        out = self.op("EnumerateInstances", "CIM_ObjectManager", namespace=self.interop_ns)
        info = {}
        if out.ok and out.value:
            om = out.value[0]
            info = {"brand": om.get("ElementName") or om.get("Name"),
                    "description": om.get("Description")}
        info["namespace_discovery"] = self.namespace_discovery.description
        return info

    @cached_property
    def namespace_discovery(self) -> NamespaceDiscovery:
        """The server's namespaces as it lists them: the first of
        CIM_Namespace and CIM_WBEMServerNamespace (in the interop namespace)
        with instances, else __Namespace walked down from root."""
        calls, tried = [], []
        for classname in NAMESPACE_CLASSES[:2]:
            out = self.op("EnumerateInstances", classname, namespace=self.interop_ns)
            calls.append(out.call)
            if not out.ok:
                tried.append(f"{classname}: {out.error_name}")
                continue
            names = []
            for inst in out.value:
                name = inst.get("Name")
                if isinstance(name, str) and name.strip("/"):
                    names.append(name.strip("/"))
            if names:
                return NamespaceDiscovery(
                    classname, _unique(names),
                    f"{classname} in {self.interop_ns} ({len(out.value)} instance(s))", calls)
            tried.append(f"{classname}: no instances")
        names, walked = self._walk_namespace_class(calls)
        if names:
            return NamespaceDiscovery(
                "__Namespace", names,
                f"__Namespace from root ({walked} namespace(s) asked; "
                + "; ".join(tried) + f" in {self.interop_ns})", calls)
        tried.append("__Namespace from root: nothing")
        return NamespaceDiscovery(None, [], "no namespace class lists a namespace ("
                                  + "; ".join(tried) + ")", calls)

    def _walk_namespace_class(self, calls):
        """Namespaces under root by __Namespace (WMI: each namespace lists its
        children): ([names], namespaces asked); no names unless root has a child."""
        found, queue, asked, seen = [], [("root", 0)], 0, {"root"}
        while queue and asked < NAMESPACE_LIMIT:
            ns, depth = queue.pop(0)
            out = self.op("EnumerateInstanceNames", "__Namespace", namespace=ns)
            asked += 1
            if len(calls) < 6:
                calls.append(out.call)
            if not out.ok:
                continue
            if ns == "root":
                found.append(ns)
            for path in out.value:
                child = path.keybindings.get("Name")
                if not isinstance(child, str) or not child.strip("/\\"):
                    continue
                full = f"{ns}/{child.strip('/')}"
                if ns_key(full) not in seen:
                    seen.add(ns_key(full))
                    found.append(full)
                    if depth < NAMESPACE_DEPTH:
                        queue.append((full, depth + 1))
        return (found if len(found) > 1 else []), asked

    @cached_property
    def namespaces(self) -> list:
        """The server's namespaces: the interop namespace, those its namespace
        class lists (:attr:`namespace_discovery`), and every namespace an
        MSFT_TargetNamespace of an interop class names."""
        seen = {ns_key(self.interop_ns): self.interop_ns}
        for name in self.namespace_discovery.names:
            seen.setdefault(ns_key(name), name)
        listed = self.op("EnumerateClassNames", namespace=self.interop_ns, ClassName=ECTP,
                         DeepInheritance=True)
        for name in (listed.value or []) if listed.ok else []:
            decl = self.get_class(self.interop_ns, name)
            for prop in (decl.properties.values() if decl else ()):
                found = target_namespace_qualifier(prop)
                if found is not None:
                    seen.setdefault(ns_key(found[1].name), found[1].name)
        return list(seen.values())

    def spelling(self, ns):
        """A namespace as the server spells it."""
        return self._spellings.get(ns_key(ns)) or ns.strip("/")

    @cached_property
    def _spellings(self) -> dict:
        """{namespace key: the first spelling in :attr:`namespaces`}."""
        out = {}
        for name in self.namespaces:
            out.setdefault(ns_key(name), name)
        return out

    @cached_property
    def conformance_namespaces(self) -> list:
        """The namespaces that define CIM_ElementConformsToProfile (the interop
        namespace first): where conformance can be served at all."""
        out = []
        for ns in self.namespaces:
            if self.can(CLASS_ENUMERATION):
                listed = self.op("EnumerateClassNames", namespace=ns, ClassName=ECTP,
                                 DeepInheritance=True)
            elif self.can(CLASS_RETRIEVAL):  # where the class is, it is defined --
                # whether or not a provider behind it answers an enumeration
                if self.get_class(ns, ECTP) is not None:
                    out.append(ns)
                continue
            else:  # where it can be enumerated, it is defined
                listed = self.op("EnumerateInstanceNames", ECTP, namespace=ns)
            if listed.ok:
                out.append(ns)
        return out

    def conformance_filter(self, ns) -> str | None:
        """CIM_ElementConformsToProfile where ``ns`` defines it (so a filter may
        name it there), else None."""
        return ECTP if self.has_class(ns, ECTP) else None

    # -- classes ----------------------------------------------------------------------

    def get_class(self, namespace, classname) -> CIMClass | None:
        """The class as the namespace defines it (with inherited qualifiers),
        or None where GetClass fails."""
        key = (ns_key(namespace), classname.lower())
        cached = self._classes.get(key, _UNKNOWN)
        if cached is _UNKNOWN:
            out = self.op("GetClass", classname, namespace=namespace, LocalOnly=False,
                          IncludeQualifiers=True)
            cached = self._classes[key] = out.value if out.ok else None
        return cached

    def has_class(self, namespace, classname) -> bool:
        """Whether the namespace defines the class (a filter may name it there);
        without class retrieval: whether EnumerateInstanceNames of it answers there."""
        if self.can(CLASS_RETRIEVAL):
            return self.get_class(namespace, classname) is not None
        out = self.op("EnumerateInstanceNames", classname, namespace=namespace)
        if out.ok:
            return True
        if out.undetermined:  # an undefined class, or a failing provider
            self.uncertain.add((ns_key(namespace), classname.lower()))
            return False
        return out.status not in UNDEFINED  # defined, its enumeration fails

    def is_uncertain(self, namespace, classname) -> bool:
        """Without class retrieval: whether it is unknown if the namespace
        defines the class (its enumeration failed without a CIM status)."""
        self.has_class(namespace, classname)
        return (ns_key(namespace), classname.lower()) in self.uncertain

    def learn_base(self, classname, base):
        """Without class retrieval: ``classname`` is a ``base`` (its instances
        were listed by a polymorphic enumeration of ``base``)."""
        if classname.lower() != base.lower() and not self.can(CLASS_RETRIEVAL):
            bases = self._learned.setdefault(classname.lower(), [])
            if base.lower() not in (b.lower() for b in bases):
                bases.append(base)
                self._chains.clear()
                self._ancestries.clear()

    def declaration(self, namespace, classname, base):
        """The class as the namespace defines it (:meth:`get_class`), or None;
        without class retrieval, a bare stand-in (its name and ``base``) where
        the namespace defines it (:meth:`has_class`): no property, no qualifier."""
        if self.can(CLASS_RETRIEVAL):
            return self.get_class(namespace, classname)
        if not self.has_class(namespace, classname):
            return None
        self.learn_base(classname, base)
        return CIMClass(classname, superclass=None if classname.lower() == base.lower()
                        else base)

    def superclasses(self, namespace, classname) -> list:
        """The class and its superclasses (lower case), as the namespace defines them."""
        return [c.lower() for c in self.class_chain(namespace, classname)]

    def is_a(self, namespace, classname, base) -> bool:
        """Whether the class is ``base`` or a subclass of it, as the namespace
        defines the hierarchy."""
        if not self.can(CLASS_RETRIEVAL):
            return self._is_a_by_instances(namespace, classname, base)
        return base.lower() in self._ancestry(namespace, classname)

    def _is_a_by_instances(self, namespace, classname, base) -> bool:
        """Without class retrieval: whether ``classname`` is ``base`` or a class
        learned to be one -- here by EnumerateInstanceNames of ``base`` in the
        namespace (polymorphic) listing an instance of ``classname``. A class
        without such an instance is not known to be a ``base``."""
        if classname.lower() == base.lower() or \
                base.lower() in (b.lower() for b in self._learned.get(classname.lower(), ())):
            return True
        listing = self.op("EnumerateInstanceNames", base, namespace=namespace)
        for path in (listing.value or []) if listing.ok else []:
            self.learn_base(path.classname, base)
        return base.lower() in (b.lower() for b in self._learned.get(classname.lower(), ()))

    def _ancestry(self, namespace, classname) -> frozenset:
        key = (ns_key(namespace), classname.lower())
        found = self._ancestries.get(key)
        if found is None:
            found = self._ancestries[key] = frozenset(self.superclasses(namespace, classname))
        return found

    def class_chain(self, namespace, classname) -> list:
        """The class and its superclasses, as spelled, from where it is defined."""
        key = (ns_key(namespace), classname.lower())
        chain = self._chains.get(key)
        if chain is None and not self.can(CLASS_RETRIEVAL):
            chain = self._chains[key] = [classname, *self._learned.get(classname.lower(), ())]
        if chain is None:
            chain, name, seen = [], classname, set()
            while name and name.lower() not in seen:
                cls = self.get_class(namespace, name)
                if cls is None:
                    break
                chain.append(cls.classname)
                seen.add(cls.classname.lower())
                name = cls.superclass
            self._chains[key] = chain
        return list(chain)

    def nearest_class_in(self, request_ns, home_ns, classname):
        """The class, or its nearest superclass (as ``home_ns`` defines the
        hierarchy), that ``request_ns`` defines; None if none is."""
        for name in self.class_chain(home_ns, classname) or [classname]:
            if self.has_class(request_ns, name):
                return name
        return None

    def is_a_anywhere(self, classname, base, namespaces=()) -> bool:
        """Whether ``classname`` is a ``base``, as the first of ``namespaces``
        (then the interop namespace and the conformance namespaces) that
        defines ``classname`` says."""
        if classname.lower() == base.lower():
            return True
        if not self.can(CLASS_RETRIEVAL):
            return any(self._is_a_by_instances(ns, classname, base) for ns in
                       [*namespaces, self.interop_ns, *self.conformance_namespaces] if ns)
        for ns in [*namespaces, self.interop_ns, *self.conformance_namespaces]:
            if self.has_class(ns, classname):
                return self.is_a(ns, classname, base)
        return False

    # -- provider registrations (WMI) -------------------------------------------------

    def registrations(self, ns) -> dict:
        """{provider name (lower): (__Win32Provider instance, registration or None)}."""
        provs = self.op("EnumerateInstances", "__Win32Provider", namespace=ns)
        regs = self.op("EnumerateInstances", "__InstanceProviderRegistration", namespace=ns)
        out = {}
        by_provider = {}
        for reg in (regs.value or []) if regs.ok else []:
            ref = reg.get("Provider")
            if isinstance(ref, CIMInstanceName):
                by_provider[path_key(ref, ns)] = reg
        for prov in (provs.value or []) if provs.ok else []:
            name = prov.get("Name")
            if name:
                out[name.lower()] = (prov, by_provider.get(path_key(with_namespace(prov.path, ns))))
        return out

    def registration_evidence(self, ns):
        """The calls :meth:`registrations` rests on."""
        return [self.op("EnumerateInstances", "__Win32Provider", namespace=ns).call,
                self.op("EnumerateInstances", "__InstanceProviderRegistration", namespace=ns).call]
