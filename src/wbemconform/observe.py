"""Observations: what the target says, fetched once per session.

Every operation goes through :meth:`Observations.op`, which issues it at
most once (the answer, CIM error included, is remembered) and keeps the
:class:`~wbemconform.target.Call` as evidence. Discovery -- the interop
namespace, the registered profiles, the association classes and the
namespaces they link -- is built on top, lazily, so that a session costs
O(profiles + elements) operations whatever the number of checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from pywbem import CIMClass, CIMError, CIMInstanceName, WBEMServer
from pywbem._cim_constants import (CIM_ERR_INVALID_CLASS)

from .namespaces import NamespaceSyntaxError, parse_namespace
from .paths import ns_key, path_key, with_namespace
from .target import Call, ServerError, Target, TargetSetupError

__all__ = ["Observations", "Outcome", "Profile", "Association", "ECTP", "RP",
           "path_key", "ns_key"]

ECTP = "CIM_ElementConformsToProfile"
RP = "CIM_RegisteredProfile"
TARGET_NS = "MSFT_TargetNamespace"
ORG_OTHER = 1


@dataclass
class Outcome:
    """An operation's answer: a value or a CIM error, with its evidence."""

    value: object = None
    error: CIMError | None = None
    call: Call | None = None

    @property
    def ok(self):
        return self.error is None

    @property
    def status(self):
        return self.error.status_code if self.error is not None else None

    def __str__(self):
        return self.call.summary if self.call else (str(self.error) if self.error else str(self.value))


@dataclass
class Profile:
    """A registered profile as the interop namespace lists it."""

    path: CIMInstanceName
    instance: object
    unique_label: str | None = None  # set when two profiles would share a label

    @property
    def key(self):
        return path_key(self.path)

    @property
    def name(self):
        return self.instance.get("RegisteredName")

    @property
    def version(self):
        return self.instance.get("RegisteredVersion")

    @property
    def organization(self):
        """The organization as RP-3 compares it."""
        org = self.instance.get("RegisteredOrganization")
        if org == ORG_OTHER:
            return ("other", (self.instance.get("OtherRegisteredOrganization") or "").strip())
        return ("dmtf-valuemap", org)

    @property
    def label(self):
        return self.unique_label or self.base_label

    @property
    def base_label(self):
        return f"{self.name or self.path.keybindings.get('InstanceID')} {self.version or '?'}"


@dataclass
class Association:
    """A CIM_ElementConformsToProfile subclass and the namespaces it spans."""

    classname: str
    decls: dict  # ns key -> CIMClass, where declared
    declared_in: dict  # ns key -> namespace name as the server spells it
    interop_ns: str
    impl_ns: str | None  # the namespace its elements live in (None: unknown)
    profile_labels: list = field(default_factory=list)

    @property
    def label(self):
        who = ", ".join(self.profile_labels) or "?"
        return f"{who} -> {self.impl_ns or '?'}:{self.classname}"

    @property
    def links_elsewhere(self):
        return self.impl_ns is not None and ns_key(self.impl_ns) != ns_key(self.interop_ns)

    def decl(self, ns):
        return self.decls.get(ns_key(ns))

    @property
    def sides(self):
        """The namespaces the class should be served in: interop, then implementation."""
        out = [self.interop_ns]
        if self.links_elsewhere:
            out.append(self.impl_ns)
        return out


def target_namespace(prop):
    """(raw text, parsed TargetNamespace or None) of a property's MSFT_TargetNamespace."""
    if prop is None:
        return None, None
    qual = prop.qualifiers.get(TARGET_NS)
    if qual is None or not qual.value:
        return None, None
    try:
        return qual.value, parse_namespace(qual.value)
    except NamespaceSyntaxError:
        return qual.value, None


class Observations:
    """Lazy, memoised knowledge of one target."""

    def __init__(self, target: Target, interop_namespace=None, flavor="auto", profile_filters=()):
        self.target = target
        self._interop_option = interop_namespace
        self._flavor_option = flavor
        self._profile_filters = list(profile_filters)
        self._memo = {}
        self._derived = {}  # (what, association class, namespace) -> derived data

    # -- operations -----------------------------------------------------------------

    def op(self, operation, *args, **kwargs) -> Outcome:
        """Issue an operation once; CIM errors are answers, transport errors raise."""
        key = (operation, tuple(str(a) for a in args),
               tuple(sorted((k, str(v)) for k, v in kwargs.items())))
        if key in self._memo:
            hit = self._memo[key]
            if isinstance(hit, Exception):
                raise hit
            return hit
        try:
            value = self.target.call(operation, *args, **kwargs)
            out = Outcome(value=value, call=self.target.calls[-1])
        except CIMError as exc:
            out = Outcome(error=exc, call=self.target.calls[-1])
        except ServerError as exc:
            self._memo[key] = exc
            raise
        self._memo[key] = out
        return out

    # -- discovery ----------------------------------------------------------------------

    def discover(self):
        """Discover now (interop namespace, flavor, subjects): TargetSetupError
        when the target cannot be checked at all."""
        self.interop_ns, self.flavor, self.associations  # noqa: B018 -- computed on access
        if self._profile_filters and not self.profiles:
            known = ", ".join(sorted({f"{p.name}:{p.version}" for p in self.all_profiles}))
            raise TargetSetupError(
                "--wbem-profile " + ", ".join(self._profile_filters)
                + f": matches no registered profile of {self.target} (registered: "
                + (known or "none") + ")")

    @cached_property
    def interop_ns(self) -> str:
        candidates = [self._interop_option] if self._interop_option else \
            list(WBEMServer.INTEROP_NAMESPACES)
        tried = []
        for ns in candidates:
            out = self.op("EnumerateInstanceNames", RP, namespace=ns)
            if out.ok:
                return ns
            tried.append(f"{ns}: {out.error.status_code_name}")
            if self._interop_option and out.status == CIM_ERR_INVALID_CLASS:
                return ns  # the user said so; RP-1 will tell the rest
        raise TargetSetupError(
            f"{self.target}: no interop namespace found (tried "
            + "; ".join(tried) + "); name it with --wbem-interop-namespace")

    @cached_property
    def flavor(self) -> str:
        if self._flavor_option in ("wmi", "dmtf"):
            return self._flavor_option
        if self.op("GetClass", "__Win32Provider", namespace=self.interop_ns).ok:
            return "wmi"
        for assoc in self.associations:
            for decl in assoc.decls.values():
                if any(TARGET_NS in p.qualifiers for p in decl.properties.values()):
                    return "wmi"
        return "dmtf"

    @property
    def flavor_reason(self) -> str:
        if self._flavor_option in ("wmi", "dmtf"):
            return f"--wbem-flavor {self._flavor_option}"
        return ("auto: __Win32Provider exists or MSFT_TargetNamespace is used"
                if self.flavor == "wmi" else
                "auto: no __Win32Provider class and no MSFT_TargetNamespace qualifier")

    @cached_property
    def all_profiles(self) -> list:
        out = self.op("EnumerateInstances", RP, namespace=self.interop_ns, DeepInheritance=True)
        if not out.ok:
            return []
        profiles = [Profile(_with_ns(inst.path, self.interop_ns), inst) for inst in out.value]
        seen = {}
        for p in profiles:
            seen.setdefault(p.base_label, []).append(p)
        for same in seen.values():
            if len(same) > 1:  # the labels name test cases and report columns: keep them apart
                for p in same:
                    p.unique_label = f"{p.base_label} [{p.path.keybindings.get('InstanceID', p.path)}]"
        return profiles

    @cached_property
    def profiles(self) -> list:
        """The registered profiles, after the --wbem-profile filters."""
        if not self._profile_filters:
            return list(self.all_profiles)
        return [p for p in self.all_profiles if any(_profile_matches(p, f) for f in self._profile_filters)]

    def subjects(self, kind):
        """[(label, subject)] for "profile" or "association": what a
        requirement of that subject kind is checked against."""
        found = self.profiles if kind == "profile" else self.associations
        return [(s.label, s) for s in found]

    def profile_by_key(self, key):
        return next((p for p in self.all_profiles if p.key == key), None)

    @cached_property
    def namespaces(self) -> list:
        """The server's namespaces: CIM_Namespace in the interop namespace, plus
        every namespace an MSFT_TargetNamespace of an interop class names."""
        seen = {ns_key(self.interop_ns): self.interop_ns}
        out = self.op("EnumerateInstances", "CIM_Namespace", namespace=self.interop_ns)
        if out.ok:
            for inst in out.value:
                name = inst.get("Name")
                if name:
                    seen.setdefault(ns_key(name), name.strip("/"))
        listed = self.op("EnumerateClassNames", namespace=self.interop_ns, ClassName=ECTP,
                         DeepInheritance=True)
        for name in (listed.value or []) if listed.ok else []:
            decl = self.get_class(self.interop_ns, name)
            for prop in (decl.properties.values() if decl else ()):
                _, target = target_namespace(prop)
                if target is not None:
                    seen.setdefault(ns_key(target.name), target.name)
        return list(seen.values())

    def get_class(self, namespace, classname) -> CIMClass | None:
        out = self.op("GetClass", classname, namespace=namespace, LocalOnly=False,
                      IncludeQualifiers=True)
        return out.value if out.ok else None

    def superclasses(self, namespace, classname) -> list:
        """The class and its superclasses (lower case), as the namespace defines them."""
        chain, name = [], classname
        while name and name.lower() not in chain:
            cls = self.get_class(namespace, name)
            if cls is None:
                break
            chain.append(cls.classname.lower())
            name = cls.superclass
        return chain

    def is_a(self, namespace, classname, base) -> bool:
        return base.lower() in self.superclasses(namespace, classname)

    @cached_property
    def associations(self) -> list:
        """Every CIM_ElementConformsToProfile subclass, in whichever namespace."""
        declared = {}  # class lower -> {ns key: (ns, decl)}
        for ns in self.namespaces:
            listed = self.op("EnumerateClassNames", namespace=ns, ClassName=ECTP,
                             DeepInheritance=True)
            if not listed.ok:
                continue
            for name in listed.value:
                decl = self.get_class(ns, name)
                if decl is not None:
                    declared.setdefault(name.lower(), {})[ns_key(ns)] = (ns, decl)
        out = []
        for spots in declared.values():
            decls = {k: d for k, (_, d) in spots.items()}
            names = {k: n for k, (n, _) in spots.items()}
            classname = next(iter(decls.values())).classname
            assoc = Association(classname, decls, names, self.interop_ns,
                                self._impl_namespace(classname, decls))
            out.append(assoc)
        for assoc in out:
            assoc.profile_labels = [p.label for p in self.linked_profiles(assoc)]
        if self._profile_filters:
            keys = {p.key for p in self.profiles}
            out = [a for a in out if {p.key for p in self.linked_profiles(a)} & keys]
        return sorted(out, key=lambda a: a.label)

    def _impl_namespace(self, classname, decls):
        """Where the elements live: the other namespace that declares the
        class; else the one the interop side's MSFT_TargetNamespace names;
        else where the instances' ManagedElement references point."""
        interop = ns_key(self.interop_ns)
        here = decls.get(interop)
        others = [k for k in decls if k != interop]
        if here is not None and len(others) != 1:
            _, target = target_namespace(here.properties.get("ManagedElement"))
            if target is not None and ns_key(target.name) != interop and \
                    (not others or ns_key(target.name) in others):
                return target.name
        if others:
            return self._spelling(others[0])
        if here is not None:
            out = self.op("EnumerateInstanceNames", classname, namespace=self.interop_ns)
            for path in (out.value or []) if out.ok else []:
                me = path.keybindings.get("ManagedElement")
                if isinstance(me, CIMInstanceName) and me.namespace:
                    return me.namespace.strip("/")
            return self.interop_ns
        return None

    def _spelling(self, key):
        return next((ns for ns in self.namespaces if ns_key(ns) == key), key)

    # -- association data -------------------------------------------------------------------

    def enumerate(self, assoc, ns) -> Outcome:
        return self.op("EnumerateInstances", assoc.classname, namespace=ns)

    def enumerate_names(self, assoc, ns) -> Outcome:
        return self.op("EnumerateInstanceNames", assoc.classname, namespace=ns)

    def _cached(self, what, assoc, ns, compute):
        key = (what, assoc.classname.lower(), ns_key(ns))
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]

    def enumerated_pairs(self, assoc, ns):
        """{(profile key, element key): (profile path, element path)} from the
        enumeration in ``ns``, or None when the enumeration failed."""
        return self._cached("pairs", assoc, ns, lambda: self._enumerated_pairs(assoc, ns))

    def _enumerated_pairs(self, assoc, ns):
        out = self.enumerate(assoc, ns)
        if not out.ok:
            return None
        pairs = {}
        for inst in out.value:
            cs, me = inst.get("ConformantStandard"), inst.get("ManagedElement")
            if isinstance(cs, CIMInstanceName) and isinstance(me, CIMInstanceName):
                cs = _with_ns(cs, ns)
                me = _with_ns(me, ns)
                pairs[(path_key(cs), path_key(me))] = (cs, me)
        return pairs

    def linked_profiles(self, assoc) -> list:
        """The registered profiles the association refers to: from its
        instances' ConformantStandard, or from the class' default value."""
        return self._cached("profiles", assoc, None, lambda: self._linked_profiles(assoc))

    def _linked_profiles(self, assoc):
        keys = {}
        for ns in assoc.sides:
            if assoc.decl(ns) is None:
                continue
            pairs = self.enumerated_pairs(assoc, ns)
            for (pk, _), (cs, _) in (pairs or {}).items():
                keys.setdefault(pk, cs)
        for decl in assoc.decls.values():
            cs = decl.properties.get("ConformantStandard")
            if cs is not None and isinstance(cs.value, CIMInstanceName):
                path = _with_ns(cs.value, self.interop_ns)
                keys.setdefault(path_key(path), path)
        out = []
        for key in keys:
            prof = self.profile_by_key(key)
            if prof is not None:
                out.append(prof)
        return out

    def element_pairs(self, assoc) -> dict:
        """{element key: (element path, {profile key: profile path})}: every
        managed element the association's enumerations or forward traversal
        name, with the profiles they name it for."""
        return self._cached("elements", assoc, None, lambda: self._element_pairs(assoc))

    def _element_pairs(self, assoc):
        out = {}
        for ns in assoc.sides:
            if assoc.decl(ns) is None:
                continue
            for (pk, ek), (cs, me) in (self.enumerated_pairs(assoc, ns) or {}).items():
                out.setdefault(ek, (me, {}))[1][pk] = cs
        for prof in self.linked_profiles(assoc):
            fwd = self.forward(assoc, prof)
            for path in (fwd.value or []) if fwd.ok else []:
                elem = _with_ns(path, self.interop_ns)
                out.setdefault(path_key(elem), (elem, {}))[1][prof.key] = prof.path
        return out

    def forward(self, assoc, profile, **filters) -> Outcome:
        """AssociatorNames from a profile over the association, in the interop namespace."""
        return self.op("AssociatorNames", profile.path, AssocClass=assoc.classname, **filters)

    def reverse(self, assoc, element, **filters) -> Outcome:
        """AssociatorNames from an element over the association, in its namespace."""
        return self.op("AssociatorNames", element, AssocClass=assoc.classname, **filters)

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
                out[name.lower()] = (prov, by_provider.get(path_key(_with_ns(prov.path, ns))))
        return out

    def registration_evidence(self, ns):
        return [self.op("EnumerateInstances", "__Win32Provider", namespace=ns).call,
                self.op("EnumerateInstances", "__InstanceProviderRegistration", namespace=ns).call]


def _with_ns(path, ns):
    return with_namespace(path, ns)


def _profile_matches(profile, spec):
    name, _, version = spec.partition(":")
    if (profile.name or "").lower() != name.strip().lower():
        return False
    return not version or (profile.version or "") == version.strip()
