"""The profiles layer of :mod:`wbemconform.observe`: the registered profiles,
what the profile knowledge base says of them, and the reference graph.

The registered profiles are the CIM_RegisteredProfile instances of the
interop namespace (subclasses included), each with a label unique in the run
(it names test cases and report columns). The knowledge base
(:mod:`wbemconform.profiledefs`) gives a profile's type, central class and
reference direction; CIM_ReferencedProfile instances form the graph in which
a component profile finds its scoping profile. The central class methodology
(AssociatorNames over CIM_ElementConformsToProfile) starts here too.

Imports :mod:`.schema` and :mod:`.operations` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from pywbem import CIMInstanceName

from ..paths import path_key, with_namespace
from ..profiledefs import (COMPONENT, ORGANIZATION_VALUES, KnowledgeBase, ProfileDef,
                           ProfileDefsError, load_knowledge_base)
from ..targets.base import TargetSetupError
from .operations import CLASS_RETRIEVAL, Outcome
from .schema import (ELEMENT_ROLE, PROFILE_ROLE, REFERENCED_PROFILE, REGISTERED_SUBPROFILE, RP,
                     SUBPROFILE_REQUIRES, Schema)

__all__ = ["Profiles", "Profile", "RefLink", "ORG_OTHER", "profile_matches"]

#: RegisteredOrganization 1 (Other): OtherRegisteredOrganization names it
ORG_OTHER = 1


@dataclass
class Profile:
    """A registered profile as the interop namespace lists it."""

    path: CIMInstanceName
    instance: object
    unique_label: str | None = None  # set when two profiles would share a label
    organization_name: str | None = None  # from RegisteredOrganization's Values

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
class RefLink:
    """One CIM_ReferencedProfile instance: Antecedent, Dependent, and whether
    its class is a CIM_SubProfileRequiresProfile (whose Antecedent is, by the
    schema, the scoping profile of its Dependent)."""

    path: CIMInstanceName
    classname: str
    antecedent: CIMInstanceName | None
    dependent: CIMInstanceName | None
    subprofile: bool = False

    def __str__(self):
        return f"{self.classname}(Antecedent={self.antecedent}, Dependent={self.dependent})"


def profile_matches(profile, spec):
    """Whether a --wbem-profile filter ``NAME[:VERSION]`` matches the profile."""
    name, _, version = spec.partition(":")
    if (profile.name or "").lower() != name.strip().lower():
        return False
    return not version or (profile.version or "") == version.strip()


class Profiles(Schema):
    """The registered profiles of one target and their reference graph.

    ``profile_filters``: the --wbem-profile filters (``NAME[:VERSION]``) that
    select :attr:`profiles` among :attr:`all_profiles`. Each property is
    determined lazily, on first access, and then kept."""

    def __init__(self, target, interop_namespace=None, profile_filters=()):
        super().__init__(target, interop_namespace)
        self._profile_filters = list(profile_filters)

    # -- registered profiles ----------------------------------------------------------

    @cached_property
    def organization_names(self) -> dict:
        """{RegisteredOrganization value: its name} from the class's ValueMap/Values
        (without class retrieval: the organizations the knowledge base knows)."""
        if not self.can(CLASS_RETRIEVAL):
            return {v: n.upper() for n, v in ORGANIZATION_VALUES.items()}
        cls = self.get_class(self.interop_ns, RP)
        prop = cls.properties.get("RegisteredOrganization") if cls is not None else None
        if prop is None:
            return {}
        vmap, values = prop.qualifiers.get("ValueMap"), prop.qualifiers.get("Values")
        if vmap is None or values is None or not vmap.value or not values.value:
            return {}
        out = {}
        for raw, name in zip(vmap.value, values.value):
            try:
                out[int(raw)] = name
            except (TypeError, ValueError):
                continue  # ranges ("..") and vendor ranges name no single value
        return out

    @cached_property
    def all_profiles(self) -> list:
        """Every registered profile (EnumerateInstances of CIM_RegisteredProfile
        in the interop namespace, DeepInheritance), sorted by label; profiles
        that would share a label are told apart by organization, then
        InstanceID. Empty when the enumeration fails (RP-1 says so)."""
        out = self.op("EnumerateInstances", RP, namespace=self.interop_ns, DeepInheritance=True)
        if not out.ok:
            return []
        profiles = [Profile(with_namespace(inst.path, self.interop_ns), inst)
                    for inst in out.value]
        for p in profiles:
            self.learn_base(p.path.classname, RP)
        seen = {}
        for p in profiles:
            seen.setdefault(p.base_label, []).append(p)
        for same in seen.values():
            if len(same) < 2:
                continue
            # the labels name test cases and report columns: keep them apart,
            # by organization first (SNIA and DMTF both register "Profile
            # Registration 1.0.0"), by InstanceID where that is not enough
            for p in same:
                p.unique_label = f"{p.base_label} ({self._organization_text(p)})"
            labels = [p.unique_label for p in same]
            for p in same:
                if labels.count(p.unique_label) > 1:
                    iid = p.path.keybindings.get("InstanceID", str(p.path))
                    p.unique_label = f"{p.base_label} ({self._organization_text(p)}, {iid})"
        return sorted(profiles, key=lambda p: (p.label.lower(), str(p.path)))

    def profiles_with_triple(self, triple) -> list:
        """The registered profiles whose (name, organization, version) is
        ``triple``, in :attr:`all_profiles`' order: RP-3's twins, found by an
        index rather than a scan of every profile per profile."""
        index = self.derived(("profiles by triple",), self._triple_index)
        try:
            return index.get(triple, [])
        except TypeError:  # a value a defective server sent as an array: no index
            return [p for p in self.all_profiles
                    if (p.name, p.organization, p.version) == triple]

    def _triple_index(self):
        out = {}
        for p in self.all_profiles:
            try:
                out.setdefault((p.name, p.organization, p.version), []).append(p)
            except TypeError:  # unhashable (an array value): found by the scan above
                continue
        return out

    def _organization_text(self, profile):
        org = profile.instance.get("RegisteredOrganization")
        if org == ORG_OTHER:
            return (profile.instance.get("OtherRegisteredOrganization") or "Other").strip()
        return self.organization_names.get(org, f"organization {org}")

    @cached_property
    def profiles(self) -> list:
        """The registered profiles, after the --wbem-profile filters."""
        if not self._profile_filters:
            return list(self.all_profiles)
        return [p for p in self.all_profiles
                if any(profile_matches(p, f) for f in self._profile_filters)]

    def profile_by_key(self, key):
        """The registered profile whose path has this key
        (:func:`~wbemconform.paths.path_key`), or None."""
        return self._profiles_by_key.get(key)

    @cached_property
    def _profiles_by_key(self):
        return {p.key: p for p in self.all_profiles}

    # -- the profile knowledge base ---------------------------------------------------

    @cached_property
    def profile_defs(self) -> KnowledgeBase:
        """The knowledge base: --wbem-profile-defs (TargetOptions.profile_defs)
        first, then the built-in entries; TargetSetupError (one line) when the
        user's file cannot be used."""
        options = getattr(self.target, "options", None)
        try:
            return load_knowledge_base(getattr(options, "profile_defs", None))
        except ProfileDefsError as exc:
            raise TargetSetupError(str(exc)) from None

    def organization_name(self, profile) -> str | None:
        """The organization as the knowledge base names it: the Values entry of
        RegisteredOrganization, or OtherRegisteredOrganization for 1 (Other)."""
        org = profile.instance.get("RegisteredOrganization")
        if org == ORG_OTHER:
            return (profile.instance.get("OtherRegisteredOrganization") or "").strip() or None
        name = self.organization_names.get(org)
        if name:
            return name
        return next((n.upper() for n, v in ORGANIZATION_VALUES.items() if v == org), None)

    def definition(self, profile) -> ProfileDef | None:
        """The knowledge base entry of a registered profile, or None."""
        return self.derived(("definition", profile.key, None), lambda: self.profile_defs.find(
            self.organization_name(profile), profile.name, profile.version))

    def profile_type(self, profile) -> str | None:
        """autonomous | component | specification: the knowledge base's word;
        else component for a CIM_RegisteredSubProfile (which, by the schema,
        requires a scoping profile); else None (unknown)."""
        d = self.definition(profile)
        if d is not None:
            return d.type
        if self.is_a(self.interop_ns, profile.path.classname, REGISTERED_SUBPROFILE):
            return COMPONENT
        return None

    def direction_of(self, profile) -> str | None:
        """dmtf | snia | None: how CIM_ReferencedProfile links this profile to
        its scoping profile (the knowledge base's word, else its organization's)."""
        d = self.definition(profile)
        if d is not None and d.direction:
            return d.direction
        org = profile.instance.get("RegisteredOrganization")
        return next((n for n, v in ORGANIZATION_VALUES.items() if v == org), None)

    # -- the reference graph ----------------------------------------------------------

    @cached_property
    def referenced_profiles(self) -> Outcome:
        """EnumerateInstances of CIM_ReferencedProfile in the interop namespace."""
        return self.op("EnumerateInstances", REFERENCED_PROFILE, namespace=self.interop_ns)

    @cached_property
    def reference_links(self) -> list:
        """[RefLink] of every CIM_ReferencedProfile instance, in the order of
        their paths (a server returns them in any order: the operations the
        links lead to, and the messages, do not change with it)."""
        out = self.referenced_profiles
        links = []
        ns = self.interop_ns
        for inst in sorted(out.value or [], key=lambda i: str(i.path)) if out.ok else []:
            ante, dep = inst.get("Antecedent"), inst.get("Dependent")
            ante = with_namespace(ante, ns) if isinstance(ante, CIMInstanceName) else None
            dep = with_namespace(dep, ns) if isinstance(dep, CIMInstanceName) else None
            sub = self.is_a(ns, inst.classname, SUBPROFILE_REQUIRES)
            links.append(RefLink(with_namespace(inst.path, ns), inst.classname, ante, dep, sub))
        return links

    def scoping_profiles(self, profile) -> list:
        """[(scoping profile path, RefLink)]: the profiles at the referencing end
        of the links that name this profile as the referenced one -- the
        Antecedent of a CIM_SubProfileRequiresProfile or, on a plain
        CIM_ReferencedProfile, the Dependent (DMTF) or the Antecedent (SNIA),
        by the profile's reference direction (as pywbem's
        get_central_instances follows them). A plain link of a profile whose
        direction is unknown names none."""
        direction = self.direction_of(profile)
        out = {}
        for link in self.reference_links:
            if link.antecedent is None or link.dependent is None:
                continue
            if link.subprofile or direction == "snia":
                mine, other = link.dependent, link.antecedent
            elif direction == "dmtf":
                mine, other = link.antecedent, link.dependent
            else:
                continue
            if path_key(mine) == profile.key and path_key(other) != profile.key:
                out.setdefault(path_key(other), (other, link))
        return list(out.values())

    # -- the central class methodology ------------------------------------------------

    def central_forward(self, path) -> Outcome:
        """The central class methodology from a registered profile:
        AssociatorNames over CIM_ElementConformsToProfile to the managed elements."""
        return self.op("AssociatorNames", path, AssocClass=self.conformance_filter(
            path.namespace or self.interop_ns), Role=PROFILE_ROLE, ResultRole=ELEMENT_ROLE)

    def central_reverse(self, element) -> Outcome:
        """From a managed element, in its namespace, back to its profiles."""
        return self.op("AssociatorNames", element, AssocClass=self.conformance_filter(
            element.namespace or self.interop_ns), Role=ELEMENT_ROLE, ResultRole=PROFILE_ROLE)
