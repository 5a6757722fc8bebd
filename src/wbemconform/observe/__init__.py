"""Observations: what the target says, fetched once per session.

:class:`Observations` is what every check is given. It is built in layers,
each a module of this package that imports only the ones below it:

* :mod:`.operations` -- every operation goes through
  :meth:`~Observations.op`, which issues it at most once (the answer, CIM
  error included, is remembered) and keeps the
  :class:`~wbemconform.targets.base.Call` as evidence; prefetching; the memo;
* :mod:`.schema` -- the interop namespace, the server's namespaces, classes
  and their hierarchies, WMI provider registrations;
* :mod:`.profiles` -- the registered profiles, the profile knowledge base,
  the CIM_ReferencedProfile graph;
* :mod:`.associations` -- the CIM_ElementConformsToProfile classes and
  their links (how they are discovered, and why, is told there);
* :mod:`.links` -- counterparts, filter classes, link indexes, traversals;
* this module -- the target's flavor, discovery as a whole, the subjects.

Everything is determined lazily, on first access, and then kept -- like the
properties of pywbem's ``WBEMServer`` -- so that a session costs
O(profiles + elements) operations whatever the number of checks.
"""

from __future__ import annotations

from functools import cached_property

from ..namespaces import TARGET_NAMESPACE_QUALIFIER
from ..paths import ns_key, path_key
from ..targets.base import Target, TargetSetupError
from .associations import FROM_ELEMENT, FROM_ENUMERATION, Association, Link
from .links import Links
from .operations import Outcome
from .profiles import Profile, RefLink, profile_matches
from .schema import (ECTP, ELEMENT_ROLE, NAMESPACE_CLASSES, PROFILE_ROLE, REFERENCED_PROFILE, RP,
                     SUBPROFILE_REQUIRES, NamespaceDiscovery)

__all__ = ["Observations", "Outcome", "Profile", "Association", "Link", "ECTP", "RP",
           "PROFILE_ROLE", "ELEMENT_ROLE", "path_key", "ns_key", "NamespaceDiscovery",
           "RefLink", "REFERENCED_PROFILE", "SUBPROFILE_REQUIRES", "FROM_ENUMERATION",
           "FROM_ELEMENT", "NAMESPACE_CLASSES"]


class Observations(Links):
    """Lazy, memoised knowledge of one target.

    ``interop_namespace``: the interop namespace to use (None: discover it);
    ``flavor``: "dmtf", "wmi" or "auto" (decide from what the target
    declares: :attr:`flavor`); ``profile_filters``: the --wbem-profile
    filters (``NAME[:VERSION]``) selecting :attr:`profiles`."""

    def __init__(self, target: Target, interop_namespace=None, flavor="auto", profile_filters=()):
        super().__init__(target, interop_namespace, profile_filters)
        self._flavor_option = flavor

    def discover(self):
        """Discover now (interop namespace, flavor, subjects): TargetSetupError
        when the target cannot be checked at all."""
        # each phase is told to the target's observers (a front end's progress)
        for name, step in (("interop namespace", lambda: self.interop_ns),
                           ("registered profiles", lambda: f"{len(self.all_profiles)} found"),
                           ("associations", lambda: f"{len(self.associations)} found"),
                           ("flavor", lambda: self.flavor),
                           # fetched now, so operation counts do not move later
                           ("server", lambda: "done" if self.server_info is not None else "")):
            self.target.phase(name)
            self.target.phase(name, step())
        # each filter must match: one that matches nothing is a typo the run
        # would otherwise pass over silently
        unmatched = [f for f in self._profile_filters
                     if not any(profile_matches(p, f) for p in self.all_profiles)]
        if unmatched:
            known = ", ".join(sorted({f"{p.name}:{p.version}" for p in self.all_profiles}))
            raise TargetSetupError(
                "--wbem-profile " + ", ".join(repr(f) for f in unmatched)
                + f": matches no registered profile of {self.target} (registered: "
                + (known or "none") + ")")

    @cached_property
    def _flavor(self):
        """(flavor, reason). ``auto`` decides from what the target's own
        registrations and classes declare: registered WMI providers
        (__Win32Provider instances) or MSFT_TargetNamespace on an association
        reference mean a WMI-style target. The class __Win32Provider alone
        proves nothing (the embedded mock defines it in every namespace)."""
        if self._flavor_option in ("wmi", "dmtf"):
            return self._flavor_option, f"--wbem-flavor {self._flavor_option}"
        seen = set()
        for ns in [self.interop_ns, *(ns for a in self.associations for ns in a.sides)]:
            if ns_key(ns) in seen:
                continue
            seen.add(ns_key(ns))
            out = self.op("EnumerateInstances", "__Win32Provider", namespace=ns)
            if out.ok and out.value:
                names = sorted({str(p.get("Name")) for p in out.value})
                return "wmi", (f"auto: {len(out.value)} __Win32Provider registration(s) in "
                               f"{ns} ({', '.join(names[:3])})")
        for assoc in self.associations:
            for key, decl in sorted(assoc.decls.items()):
                for prop in decl.properties.values():
                    if TARGET_NAMESPACE_QUALIFIER in prop.qualifiers:
                        return "wmi", (f"auto: {assoc.declared_in[key]}:{assoc.classname}."
                                       f"{prop.name} carries MSFT_TargetNamespace")
        return "dmtf", ("auto: no __Win32Provider registration and no MSFT_TargetNamespace "
                        "qualifier")

    @property
    def flavor(self) -> str:
        """"dmtf" or "wmi": the one given, or what the target declares (auto)."""
        return self._flavor[0]

    @property
    def flavor_reason(self) -> str:
        """Why the flavor is what it is, for messages."""
        return self._flavor[1]

    def subjects(self, kind):
        """[(label, subject)] for "profile" or "association": what a
        requirement of that subject kind is checked against."""
        found = self.profiles if kind == "profile" else self.associations
        return [(s.label, s) for s in found]
