"""The associations layer of :mod:`wbemconform.observe`: which
CIM_ElementConformsToProfile classes the target serves, and their links.

An association subject is a ``CIM_ElementConformsToProfile`` class (a
subclass, or the class itself when it has instances of its own). Its *links*
-- (profile, element) pairs -- come from enumerating it in every namespace
that declares it; where each element lives comes from the element's
reference path itself, never from where the class happens to be declared (a
server may declare the class in namespaces that hold none of its instances).
A link no enumeration lists but ReferenceNames from a central instance of a
known profile returns is kept too, marked FROM_ELEMENT.

Where the target cannot enumerate classes (WS-Management), the classes are
those whose instances EnumerateInstanceNames of CIM_ElementConformsToProfile
lists (polymorphic) in each namespace that answers it, and those
ReferenceNames reaches from the elements' side; each such class is then
looked for in every conformance namespace (:meth:`Associations._declared_elsewhere`).

What is derived from the links -- the class serving an association in a
namespace, the indexes, the traversals -- is :mod:`.links`, one layer up.

Imports :mod:`.profiles`, :mod:`.schema` and :mod:`.operations` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from pywbem import CIMInstanceName

from ..namespaces import target_namespace_qualifier
from ..paths import ns_key, path_key, with_namespace
from .operations import CLASS_ENUMERATION
from .profiles import Profiles
from .schema import ECTP, ELEMENT_ROLE, PROFILE_ROLE

__all__ = ["Associations", "Association", "Link", "FROM_ENUMERATION", "FROM_ELEMENT",
           "CENTRAL_PROBES", "LABEL_PROFILES"]

#: central instances probed per (class, namespace) for element-side links
CENTRAL_PROBES = 25
#: how many profile labels an association's label names before "+N more"
LABEL_PROFILES = 3
#: how a link was found: listed by an enumeration of the association class,
#: or returned only by ReferenceNames from the managed element
FROM_ENUMERATION, FROM_ELEMENT = "enumeration", "element-side"


@dataclass(frozen=True)
class Link:
    """One (profile, element) pair an association instance states."""

    profile: CIMInstanceName  # with namespace
    element: CIMInstanceName  # with namespace
    classname: str  # the association instance's class
    #: FROM_ENUMERATION, or FROM_ELEMENT when no enumeration lists it
    source: str = field(default=FROM_ENUMERATION, compare=False)
    #: the association instance's path as the server gave it (element-side links)
    path: CIMInstanceName | None = field(default=None, compare=False)

    @property
    def key(self):
        return (path_key(self.profile), path_key(self.element))

    @property
    def how(self):
        """How the link is known, for messages."""
        if self.source == FROM_ELEMENT:
            return (f"returned by ReferenceNames from the element in "
                    f"{self.element.namespace} (no enumeration lists it)")
        return "enumerated"


@dataclass
class Association:
    """A CIM_ElementConformsToProfile class: where it is declared, where its
    instances are, and the links they state."""

    classname: str
    decls: dict  # ns key -> CIMClass, where declared
    declared_in: dict  # ns key -> namespace name as the server spells it
    interop_ns: str
    links: dict = field(default_factory=dict)  # (profile key, element key) -> Link
    instance_ns: list = field(default_factory=list)  # where its instances were enumerated
    element_ns: list = field(default_factory=list)  # where its ManagedElement ends live
    profile_labels: list = field(default_factory=list)

    @property
    def label(self):
        shown = self.profile_labels[:LABEL_PROFILES]
        more = len(self.profile_labels) - len(shown)
        who = ", ".join(shown) + (f", +{more} more" if more else "") or "?"
        return f"{who} -> {', '.join(self.element_ns) or '?'}:{self.classname}"

    @property
    def impl_namespaces(self):
        """The namespaces its elements live in, other than the interop namespace."""
        return [ns for ns in self.element_ns if ns_key(ns) != ns_key(self.interop_ns)]

    @property
    def links_elsewhere(self):
        """Whether any of its elements lives outside the interop namespace."""
        return bool(self.impl_namespaces)

    def decl(self, ns):
        """The class as ``ns`` declares it, or None."""
        return self.decls.get(ns_key(ns))

    @property
    def sides(self):
        """The namespaces the class is served in: the interop namespace, then
        where its elements live, then where else its instances are -- each
        only where the class is declared."""
        out, seen = [], set()
        for ns in [self.interop_ns, *self.element_ns, *self.instance_ns]:
            key = ns_key(ns)
            if key not in seen and key in self.decls:
                seen.add(key)
                out.append(self.declared_in[key])
        return out

    @property
    def wanted_sides(self):
        """The namespaces the WMI document wants it declared in: the interop
        namespace and each implementation namespace."""
        return [self.interop_ns, *self.impl_namespaces]


def _association_ends(path, ns):
    """(profile, element) of an association path, each in ``ns`` where it
    names no namespace; None when either key is not a reference."""
    cs = path.keybindings.get(PROFILE_ROLE)
    me = path.keybindings.get(ELEMENT_ROLE)
    if not isinstance(cs, CIMInstanceName) or not isinstance(me, CIMInstanceName):
        return None
    return with_namespace(cs, ns), with_namespace(me, ns)


class Associations(Profiles):
    """The CIM_ElementConformsToProfile classes of one target, with their
    links. Determined lazily (:attr:`associations`), then kept."""

    def _cached(self, what, assoc, ns, compute):
        """:meth:`derived`, keyed by an association (and a namespace)."""
        return self.derived((what, assoc.classname.lower(), ns_key(ns)), compute)

    @cached_property
    def associations(self) -> list:
        """Every CIM_ElementConformsToProfile class with instances or a
        declaration of its own, with its links (see the module docstring),
        sorted by label; with --wbem-profile filters, those linked to a
        selected profile."""
        declared = {}  # class lower -> {ns key: (ns, decl)}
        instances = {}  # class lower -> {ns key: [paths]}
        listed_classes = self.can(CLASS_ENUMERATION)
        for ns in self.namespaces if listed_classes else self.conformance_namespaces:
            if listed_classes:
                listed = self.op("EnumerateClassNames", namespace=ns, ClassName=ECTP,
                                 DeepInheritance=True)
                if not listed.ok:
                    continue
                names = list(listed.value)
            else:
                names = []
            for name in names:
                decl = self.declaration(ns, name, ECTP)
                if decl is not None:
                    declared.setdefault(name.lower(), {})[ns_key(ns)] = (ns, decl)
            for lc, paths in self._instances_by_class(ns, names).items():
                instances.setdefault(lc, {})[ns_key(ns)] = paths
                if not listed_classes and ns_key(ns) not in declared.get(lc, {}):
                    decl = self.declaration(ns, paths[0].classname, ECTP)
                    if decl is not None:
                        declared.setdefault(lc, {})[ns_key(ns)] = (ns, decl)
                if lc == ECTP.lower() and lc not in declared:
                    base = self.get_class(ns, ECTP)
                    if base is not None:
                        declared.setdefault(lc, {})[ns_key(ns)] = (ns, base)
        reached = self._element_side_paths()
        for lc, by_ns in reached.items():
            for key, paths in by_ns.items():
                if key in declared.get(lc, {}):
                    continue
                ns = self.spelling(key)
                decl = self.declaration(ns, paths[0].classname, ECTP)
                if decl is not None:
                    declared.setdefault(lc, {})[key] = (ns, decl)
        if not listed_classes:
            self._declared_elsewhere(declared)
        out = []
        for lc, spots in declared.items():
            if lc == ECTP.lower() and not instances.get(lc) and not reached.get(lc):
                continue  # the base class is a subject only when it has instances of its own
            decls = {k: d for k, (_, d) in spots.items()}
            names = {k: n for k, (n, _) in spots.items()}
            classname = next(iter(decls.values())).classname
            assoc = Association(classname, decls, names, self.interop_ns)
            self._fill_links(assoc, instances.get(lc, {}), reached.get(lc, {}))
            if not listed_classes:
                self._declared_where_elements_live(assoc)
            out.append(assoc)
        for assoc in out:
            assoc.profile_labels = [p.label for p in self.linked_profiles(assoc)]
        if self._profile_filters:
            keys = {p.key for p in self.profiles}
            out = [a for a in out if {p.key for p in self.linked_profiles(a)} & keys]
        return sorted(out, key=lambda a: (a.label.lower(), a.classname.lower()))

    def _declared_elsewhere(self, declared):
        """Without class enumeration: the conformance namespaces that define a
        class found through its instances, though they hold none of them (one
        question per class and namespace: GetClass, or EnumerateInstanceNames
        without class retrieval)."""
        for lc, spots in declared.items():
            classname = next(iter(spots.values()))[1].classname
            for ns in self.conformance_namespaces:
                if ns_key(ns) not in spots:
                    decl = self.declaration(ns, classname, ECTP)
                    if decl is not None:
                        spots[ns_key(ns)] = (ns, decl)

    def _declared_where_elements_live(self, assoc):
        """Without class enumeration (nor, often, a list of namespaces): the
        namespaces its elements live in, as its links name them, are asked
        whether they declare the class too -- the spec's implementation side,
        which no listing revealed."""
        for ns in assoc.element_ns:
            if ns_key(ns) not in assoc.decls:
                decl = self.declaration(ns, assoc.classname, ECTP)
                if decl is not None:
                    assoc.decls[ns_key(ns)] = decl
                    assoc.declared_in[ns_key(ns)] = ns

    def _element_side_paths(self) -> dict:
        """{class lower: {ns key: [association paths]}}: the conformance
        associations ReferenceNames reaches from the instances of the central
        classes of the registered profiles the knowledge base knows -- so an
        association that neither enumeration nor the profile's side shows is
        still found (at most CENTRAL_PROBES instances per class and namespace)."""
        classes = sorted({d.central_class for p in self.profiles
                          if (d := self.definition(p)) is not None and d.central_class},
                         key=str.lower)
        out = {}
        for ns in self.conformance_namespaces if classes else ():
            for classname in classes:
                listing = self.op("EnumerateInstanceNames", classname, namespace=ns)
                if not listing.ok:
                    continue
                for path in sorted(listing.value, key=str)[:CENTRAL_PROBES]:
                    refs = self.op("ReferenceNames", with_namespace(path, ns), ResultClass=ECTP,
                                   Role=ELEMENT_ROLE)
                    for ref in (refs.value or []) if refs.ok else []:
                        out.setdefault(ref.classname.lower(), {}).setdefault(
                            ns_key(ns), {})[path_key(ref, ns)] = with_namespace(ref, ns)
        return {lc: {k: list(v.values()) for k, v in by_ns.items()}
                for lc, by_ns in out.items()}

    def _instances_by_class(self, ns, declared_names):
        """{class lower: [paths]} of the association instances in a namespace:
        one enumeration of CIM_ElementConformsToProfile, or one per declared
        class when the base enumeration fails (a provider may refuse it)."""
        out = {}
        base = self.op("EnumerateInstanceNames", ECTP, namespace=ns)
        listings = [base] if base.ok else [
            self.op("EnumerateInstanceNames", name, namespace=ns) for name in declared_names]
        for listing in listings:
            for path in (listing.value or []) if listing.ok else []:
                out.setdefault(path.classname.lower(), {})[path_key(path, ns)] = \
                    with_namespace(path, ns)
        return {lc: list(paths.values()) for lc, paths in out.items()}

    def _fill_links(self, assoc, paths_by_ns, reached_by_ns=None):
        """The links, instance namespaces and element namespaces of a class:
        from its enumerations, then (as FROM_ELEMENT links) what ReferenceNames
        from the central instances returned and no enumeration listed."""
        element_ns = {}
        for key in sorted(paths_by_ns, key=lambda k: (k != ns_key(self.interop_ns), k)):
            paths = paths_by_ns[key]
            if not paths:
                continue
            ns = self.spelling(key)
            assoc.instance_ns.append(ns)
            for path in paths:
                ends = _association_ends(path, ns)
                if ends is None:
                    continue
                link = Link(*ends, path.classname)
                assoc.links.setdefault(link.key, link)
                element_ns.setdefault(ns_key(link.element.namespace),
                                      self.spelling(link.element.namespace))
        for key in sorted(reached_by_ns or {}):
            ns = self.spelling(key)
            for path in reached_by_ns[key]:
                ends = _association_ends(path, ns)
                if ends is None:
                    continue
                link = Link(*ends, path.classname, FROM_ELEMENT, path)
                if link.key not in assoc.links:
                    assoc.links[link.key] = link
                    element_ns.setdefault(ns_key(link.element.namespace),
                                          self.spelling(link.element.namespace))
        if not element_ns:  # no instance to learn from: what the declarations say
            guess = self._declared_element_namespace(assoc)
            if guess:
                element_ns[ns_key(guess)] = guess
        interop = ns_key(self.interop_ns)
        assoc.element_ns = [element_ns[k] for k in
                            sorted(element_ns, key=lambda k: (k == interop, k))]

    def _declared_element_namespace(self, assoc):
        """Where the elements of a class without enumerable instances live, as
        its declarations say: the interop side's MSFT_TargetNamespace, else
        the one other namespace that declares it, else the interop namespace."""
        interop = ns_key(self.interop_ns)
        here = assoc.decls.get(interop)
        if here is not None:
            found = target_namespace_qualifier(here.properties.get(ELEMENT_ROLE))
            if found is not None:
                return found[1].name
        others = [k for k in assoc.decls if k != interop]
        if len(others) == 1:
            return assoc.declared_in[others[0]]
        return self.interop_ns if here is not None else None

    def linked_profiles(self, assoc) -> list:
        """The registered profiles the association refers to: from its links'
        ConformantStandard, or from the class' default value."""
        return self._cached("profiles", assoc, None, lambda: self._linked_profiles(assoc))

    def _linked_profiles(self, assoc):
        keys = {}
        for (pk, _), link in sorted(assoc.links.items()):
            keys.setdefault(pk, link.profile)
        for decl in assoc.decls.values():
            cs = decl.properties.get(PROFILE_ROLE)
            if cs is not None and isinstance(cs.value, CIMInstanceName):
                path = with_namespace(cs.value, self.interop_ns)
                keys.setdefault(path_key(path), path)
        return [p for p in self.all_profiles if p.key in keys]

    def central_class_instances(self, classname) -> dict:
        """{namespace: Outcome} of EnumerateInstanceNames of a central class in
        every namespace where conformance is served or where linked elements
        live; only the namespaces that answer."""
        spaces = list(self.conformance_namespaces)
        for assoc in self.associations:
            spaces += [ns for ns in assoc.element_ns if ns_key(ns) not in map(ns_key, spaces)]
        out = {}
        for ns in spaces:
            listing = self.op("EnumerateInstanceNames", classname, namespace=ns)
            if listing.ok:
                out[ns] = listing
        return out
