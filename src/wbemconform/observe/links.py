"""The links layer of :mod:`wbemconform.observe`: what the checks derive
from the associations -- the class serving one in a namespace, the filter
class a request names, indexes of the links, and the traversals.

Every traversal states its direction (Role / ResultRole), and every class a
filter names exists in the namespace of the request: the association's own
class where it is declared there (or its counterpart, a differently named
class there stating the same links), else its nearest superclass that is.
Everything here is computed once per (association, namespace) and kept.

Imports :mod:`.associations` and the layers below it only.
"""

from __future__ import annotations

from pywbem import CIMInstanceName

from ..paths import ns_key, path_key, with_namespace
from .associations import Associations
from .operations import Outcome
from .schema import ECTP, ELEMENT_ROLE, PROFILE_ROLE

__all__ = ["Links"]


class Links(Associations):
    """Counterparts, filter classes, link indexes and traversals of the
    associations of one target."""

    # -- the class serving an association in a namespace ------------------------------

    def counterpart(self, assoc, ns):
        """The class that serves this association in ``ns``: the class itself
        where ``ns`` declares it; else a differently named class that ``ns``
        declares and whose instances state the same links (a Windows-style
        pair, such as MSFTSM_ElementConformsToProfile in root\\interop and
        MSFTSM_ElementConformsToProfileEx beside the elements); else None."""
        if assoc.decl(ns) is not None:
            return assoc
        return self._cached("counterpart", assoc, ns, lambda: self._counterpart(assoc, ns))

    def _counterpart(self, assoc, ns):
        mine = set(assoc.links)
        if not mine:
            return None
        candidates = [other for other in self.associations
                      if other is not assoc and other.decl(ns) is not None
                      and mine & set(other.links)]
        return max(candidates, key=lambda o: (len(mine & set(o.links)), o.classname.lower()),
                   default=None)

    def filter_class(self, assoc, ns):
        """The class an AssocClass/ResultClass filter names for this association
        in a request to ``ns``: the class serving it there (itself, or its
        counterpart), else its nearest superclass that ``ns`` defines."""
        return self._cached("filter", assoc, ns, lambda: self._filter_class(assoc, ns))

    def _filter_class(self, assoc, ns):
        served = self.counterpart(assoc, ns)
        if served is not None:
            return served.classname
        home = next(iter(assoc.declared_in.values()))
        return self.nearest_class_in(ns, home, assoc.classname) or ECTP

    def is_exact_filter(self, assoc, ns):
        """Whether a filter in ``ns`` names the association's own class."""
        return self.filter_class(assoc, ns).lower() == assoc.classname.lower()

    # -- indexes of the links ---------------------------------------------------------

    def links_under(self, filter_class, ns):
        """Every link of every association whose class is a ``filter_class``
        (what a traversal filtered by it may return)."""
        def compute():
            out = {}
            for other in self.associations:
                home = other.declared_in.get(ns_key(ns)) or next(iter(other.declared_in.values()))
                if self.is_a(home, other.classname, filter_class):
                    out.update(other.links)
            return out
        return self.derived(("links-under", filter_class.lower(), ns_key(ns)), compute)

    def links_by_end(self, filter_class, ns, end):
        """links_under, indexed by one end: ``end`` "profile" gives {profile key:
        {element key: element path}}, "element" {element key: {profile key:
        profile path}}."""
        def compute():
            index = {}
            for (pk, ek), link in sorted(self.links_under(filter_class, ns).items()):
                if end == "profile":
                    index.setdefault(pk, {})[ek] = link.element
                else:
                    index.setdefault(ek, {})[pk] = link.profile
            return index
        return self.derived(("links-by", filter_class.lower(), ns_key(ns), end), compute)

    def expected_elements(self, assoc, profile) -> dict:
        """{element key: path}: the elements the association links to a profile."""
        def index():
            out = {}
            for (pk, ek), link in sorted(assoc.links.items()):
                out.setdefault(pk, {})[ek] = link.element
            return out
        return dict(self._cached("by-profile", assoc, None, index).get(profile.key, {}))

    def element_pairs(self, assoc) -> dict:
        """{element key: (element path, {profile key: profile path})}: every
        managed element the association's links name -- and, when the
        association cannot be enumerated, what forward traversal reaches."""
        return self._cached("elements", assoc, None, lambda: self._element_pairs(assoc))

    def _element_pairs(self, assoc):
        out = {}
        for (pk, ek), link in sorted(assoc.links.items()):
            out.setdefault(ek, (link.element, {}))[1][pk] = link.profile
        if not assoc.links and self.is_exact_filter(assoc, self.interop_ns):
            for prof in self.linked_profiles(assoc):
                fwd = self.forward(assoc, prof)
                for path in (fwd.value or []) if fwd.ok else []:
                    elem = with_namespace(path, self.interop_ns)
                    out.setdefault(path_key(elem), (elem, {}))[1][prof.key] = prof.path
        return out

    # -- enumerations -----------------------------------------------------------------

    def enumerate(self, assoc, ns) -> Outcome:
        """EnumerateInstances of the association's class in ``ns``."""
        return self.op("EnumerateInstances", assoc.classname, namespace=ns)

    def own(self, assoc, items):
        """The instances or paths of ``items`` (an enumeration of the
        association's class, which is polymorphic) that belong to this
        subject: of its class, or of a subclass that is no subject of its own
        -- a subclass with a subject is judged there, and only there."""
        mine = assoc.classname.lower()
        others = self.derived(("subject-classes", None, None), lambda: frozenset(
            a.classname.lower() for a in self.associations))
        return [i for i in items
                if i.classname.lower() == mine or i.classname.lower() not in others]

    def seen_paths(self, assoc):
        """The association paths the server gave for links no enumeration
        lists (ReferenceNames from the element's side), each once."""
        out = {}
        for link in assoc.links.values():
            if link.path is not None:
                out.setdefault(path_key(link.path), link.path)
        return list(out.values())

    def enumerate_names(self, assoc, ns) -> Outcome:
        """EnumerateInstanceNames of the association's class in ``ns``."""
        return self.op("EnumerateInstanceNames", assoc.classname, namespace=ns)

    def enumerated_pairs(self, assoc, ns):
        """{(profile key, element key): (profile path, element path)} of the
        instances of exactly this class that EnumerateInstances lists in
        ``ns``, or None when the enumeration failed."""
        return self._cached("pairs", assoc, ns, lambda: self._enumerated_pairs(assoc, ns))

    def _enumerated_pairs(self, assoc, ns):
        out = self.enumerate(assoc, ns)
        if not out.ok:
            return None
        pairs = {}
        for inst in out.value:
            if inst.classname.lower() != assoc.classname.lower():
                continue  # a subclass: its own subject
            cs, me = inst.get(PROFILE_ROLE), inst.get(ELEMENT_ROLE)
            if isinstance(cs, CIMInstanceName) and isinstance(me, CIMInstanceName):
                cs, me = with_namespace(cs, ns), with_namespace(me, ns)
                pairs[(path_key(cs), path_key(me))] = (cs, me)
        return pairs

    def pairs_by_namespace(self) -> dict:
        """{ns key: (set of pair keys, an enumeration Outcome)}: the links every
        association enumeration in a namespace lists (all classes together)."""
        def compute():
            out = {}
            for other in self.associations:
                for ns in other.sides:
                    pairs = self.enumerated_pairs(other, ns)
                    if pairs is None:
                        continue
                    keys, _ = out.setdefault(ns_key(ns), (set(), self.enumerate(other, ns)))
                    keys.update(pairs)
            return out
        return self.derived(("pairs-by-ns", None, None), compute)

    # -- traversals -------------------------------------------------------------------

    def forward_request(self, assoc, profile, **filters):
        """(operation, args, kwargs) of :meth:`forward`."""
        filters.setdefault("Role", PROFILE_ROLE)
        filters.setdefault("ResultRole", ELEMENT_ROLE)
        return ("AssociatorNames", (profile.path,),
                dict(AssocClass=self.filter_class(assoc, self.interop_ns), **filters))

    def forward(self, assoc, profile, **filters) -> Outcome:
        """AssociatorNames from a profile to its elements over the association
        (Role = ConformantStandard, ResultRole = ManagedElement)."""
        operation, args, kwargs = self.forward_request(assoc, profile, **filters)
        return self.op(operation, *args, **kwargs)

    def reverse_request(self, assoc, element, **filters):
        """(operation, args, kwargs) of :meth:`reverse`."""
        filters.setdefault("Role", ELEMENT_ROLE)
        filters.setdefault("ResultRole", PROFILE_ROLE)
        return ("AssociatorNames", (element,),
                dict(AssocClass=self.filter_class(assoc, element.namespace or self.interop_ns),
                     **filters))

    def reverse(self, assoc, element, **filters) -> Outcome:
        """AssociatorNames from an element, in its namespace, to its profiles
        (Role = ManagedElement, ResultRole = ConformantStandard)."""
        operation, args, kwargs = self.reverse_request(assoc, element, **filters)
        return self.op(operation, *args, **kwargs)

    def prefetch_reverse(self, assoc, elements, **filters):
        """:meth:`reverse` from each element, issued together (see :meth:`prefetch`)."""
        self.prefetch([self.reverse_request(assoc, e, **filters) for e in elements])
