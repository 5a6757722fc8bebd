"""Observations: what the target says, fetched once per session.

Every operation goes through :meth:`Observations.op`, which issues it at
most once (the answer, CIM error included, is remembered) and keeps the
:class:`~wbemconform.target.Call` as evidence. Discovery -- the interop
namespace, the registered profiles, the association classes, where their
instances live and which namespaces their links reach -- is built on top,
lazily, so that a session costs O(profiles + elements) operations whatever
the number of checks.

How associations are discovered (and why): an association subject is a
``CIM_ElementConformsToProfile`` class (a subclass, or the class itself when
it has instances of its own). Its *links* -- (profile, element) pairs -- come
from enumerating it in every namespace that declares it; where each element
lives comes from the element's reference path itself, never from where the
class happens to be declared (a server may declare the class in namespaces
that hold none of its instances). Every traversal states its direction
(Role / ResultRole), and every class a filter names exists in the namespace
of the request: the association's own class where it is declared there, else
its nearest superclass that is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from pywbem import CIM_ERR_INVALID_CLASS, CIMClass, CIMError, CIMInstanceName, WBEMServer

from .namespaces import NamespaceSyntaxError, parse_namespace
from .paths import exact_key, ns_key, path_key, with_namespace
from .profiledefs import (COMPONENT, ORGANIZATION_VALUES, KnowledgeBase, ProfileDef,
                          ProfileDefsError, load_knowledge_base)
from .target import Call, ServerError, Target, TargetSetupError

__all__ = ["Observations", "Outcome", "Profile", "Association", "Link", "ECTP", "RP",
           "PROFILE_ROLE", "ELEMENT_ROLE", "path_key", "ns_key", "NamespaceDiscovery",
           "RefLink", "REFERENCED_PROFILE", "SUBPROFILE_REQUIRES", "FROM_ENUMERATION",
           "FROM_ELEMENT", "NAMESPACE_CLASSES"]

ECTP = "CIM_ElementConformsToProfile"
RP = "CIM_RegisteredProfile"
REFERENCED_PROFILE = "CIM_ReferencedProfile"
SUBPROFILE_REQUIRES = "CIM_SubProfileRequiresProfile"
REGISTERED_SUBPROFILE = "CIM_RegisteredSubProfile"
#: the classes a server may list its namespaces with, in the order pywbem
#: tries them (WBEMServer.NAMESPACE_CLASSNAMES): SMI-S/DSP0200's CIM_Namespace,
#: DSP1092's CIM_WBEMServerNamespace, WMI's __Namespace
NAMESPACE_CLASSES = ("CIM_Namespace", "CIM_WBEMServerNamespace", "__Namespace")
#: __Namespace lists the children of the namespace it is enumerated in:
#: discovery walks down from root, this deep and this wide at most
NAMESPACE_DEPTH, NAMESPACE_LIMIT = 8, 500
#: central instances probed per (class, namespace) for element-side links
CENTRAL_PROBES = 25
TARGET_NS = "MSFT_TargetNamespace"
PROFILE_ROLE = "ConformantStandard"
ELEMENT_ROLE = "ManagedElement"
ORG_OTHER = 1
_UNKNOWN = object()
#: how many profile labels an association's label names before "+N more"
LABEL_PROFILES = 3


@dataclass
class Outcome:
    """An operation's answer: a value or a CIM error, with its evidence."""

    value: object = None
    error: CIMError | None = None
    call: Call | None = None
    calls: list = field(default_factory=list)  # every call behind it (pull sequences)

    @property
    def ok(self):
        return self.error is None

    @property
    def status(self):
        return self.error.status_code if self.error is not None else None

    @property
    def error_name(self):
        return self.error.status_code_name if self.error is not None else None

    def __str__(self):
        return self.call.summary if self.call else (str(self.error) if self.error else str(self.value))


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
    def impl_ns(self):
        """The (first) implementation namespace, or None when every element is local."""
        return next(iter(self.impl_namespaces), None)

    @property
    def links_elsewhere(self):
        return bool(self.impl_namespaces)

    def decl(self, ns):
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


def _arg_key(value):
    """An operation argument in the key of its answer: a path exactly as
    written (paths.exact_key), anything else as text."""
    return exact_key(value) if type(value) is CIMInstanceName else str(value)


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
        # class knowledge, asked for per element: answered from these
        self._classes, self._chains, self._ancestries = {}, {}, {}

    # -- operations -----------------------------------------------------------------

    @staticmethod
    def _key(operation, args, kwargs):
        return (operation, tuple(_arg_key(a) for a in args),
                tuple(sorted((k, _arg_key(v)) for k, v in kwargs.items() if v is not None)))

    def prefetch(self, requests):
        """Issue together the operations ``[(operation, args, kwargs)]`` not
        asked yet -- concurrently, on a URL target with several workers -- so
        that each later :meth:`op` is answered from memory. The operation log
        and every answer are the same as asking one after the other."""
        if self.target.workers < 2:
            return  # one at a time anyway: each op() issues its own when asked
        todo, seen = [], set()
        for operation, args, kwargs in requests:
            kwargs = {k: v for k, v in kwargs.items() if v is not None}
            key = self._key(operation, args, kwargs)
            if key in self._memo or key in seen:
                continue
            seen.add(key)
            todo.append((key, operation, args, kwargs))
        if len(todo) < 2:
            return
        answers = self.target.call_many([(op, args, kw) for _, op, args, kw in todo])
        first = len(self.target.calls) - len(todo)
        for i, ((key, *_), (result, error)) in enumerate(zip(todo, answers)):
            call = self.target.calls[first + i]
            if isinstance(error, ServerError):
                self._memo[key] = error
            elif isinstance(error, CIMError):
                self._memo[key] = Outcome(error=error, call=call, calls=[call])
            elif error is None:
                self._memo[key] = Outcome(value=result, call=call, calls=[call])

    def op(self, operation, *args, **kwargs) -> Outcome:
        """Issue an operation once; CIM errors are answers, transport errors raise."""
        key = self._key(operation, args, kwargs)
        if key in self._memo:
            hit = self._memo[key]
            if isinstance(hit, Exception):
                raise hit
            return hit
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        try:
            value = self.target.call(operation, *args, **kwargs)
            out = Outcome(value=value, call=self.target.calls[-1])
        except CIMError as exc:
            out = Outcome(error=exc, call=self.target.calls[-1])
        except ServerError as exc:
            self._memo[key] = exc
            raise
        out.calls = [out.call]
        self._memo[key] = out
        return out

    def pull(self, open_operation, *args, max_pulls=10000, **kwargs) -> Outcome:
        """An Open*Paths operation followed by PullInstancePaths to the end:
        Outcome whose value is every path, or the first CIM error; its
        ``calls`` are every call of the sequence."""
        key = ("pull", open_operation, tuple(str(a) for a in args),
               tuple(sorted((k, str(v)) for k, v in kwargs.items() if v is not None)))
        if key in self._memo:
            return self._memo[key]
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        kwargs.setdefault("MaxObjectCount", 1000)
        calls = []
        try:
            res = self.target.call(open_operation, *args, **kwargs)
            calls.append(self.target.calls[-1])
            paths = list(res.paths)
            pulls = 0
            while not res.eos:
                if pulls >= max_pulls or not res.context:
                    raise CIMError(0, f"{open_operation}: the enumeration did not end after "
                                      f"{pulls} pull(s)" if res.context else
                                   f"{open_operation}: not at the end, but no enumeration "
                                   "context to pull with")
                res = self.target.call("PullInstancePaths", res.context, MaxObjectCount=1000)
                calls.append(self.target.calls[-1])
                paths.extend(res.paths)
                pulls += 1
            out = Outcome(value=paths, call=calls[0], calls=calls)
        except CIMError as exc:
            if self.target.calls and (not calls or self.target.calls[-1] is not calls[-1]):
                calls.append(self.target.calls[-1])
            out = Outcome(error=exc, call=calls[-1] if calls else None, calls=calls)
        self._memo[key] = out
        return out

    # -- discovery ----------------------------------------------------------------------

    def discover(self):
        """Discover now (interop namespace, flavor, subjects): TargetSetupError
        when the target cannot be checked at all."""
        self.interop_ns, self.flavor, self.associations  # noqa: B018 -- computed on access
        self.server_info  # noqa: B018 -- fetched now, so operation counts do not move later
        # each filter must match: one that matches nothing is a typo the run
        # would otherwise pass over silently
        unmatched = [f for f in self._profile_filters
                     if not any(_profile_matches(p, f) for p in self.all_profiles)]
        if unmatched:
            known = ", ".join(sorted({f"{p.name}:{p.version}" for p in self.all_profiles}))
            raise TargetSetupError(
                "--wbem-profile " + ", ".join(repr(f) for f in unmatched)
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
                    if TARGET_NS in prop.qualifiers:
                        return "wmi", (f"auto: {assoc.declared_in[key]}:{assoc.classname}."
                                       f"{prop.name} carries MSFT_TargetNamespace")
        return "dmtf", ("auto: no __Win32Provider registration and no MSFT_TargetNamespace "
                        "qualifier")

    @property
    def flavor(self) -> str:
        return self._flavor[0]

    @property
    def flavor_reason(self) -> str:
        return self._flavor[1]

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
    def organization_names(self) -> dict:
        """{RegisteredOrganization value: its name} from the class's ValueMap/Values."""
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
        out = self.op("EnumerateInstances", RP, namespace=self.interop_ns, DeepInheritance=True)
        if not out.ok:
            return []
        profiles = [Profile(_with_ns(inst.path, self.interop_ns), inst) for inst in out.value]
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
        return [p for p in self.all_profiles if any(_profile_matches(p, f) for f in self._profile_filters)]

    def subjects(self, kind):
        """[(label, subject)] for "profile" or "association": what a
        requirement of that subject kind is checked against."""
        found = self.profiles if kind == "profile" else self.associations
        return [(s.label, s) for s in found]

    def profile_by_key(self, key):
        return self._profiles_by_key.get(key)

    @cached_property
    def _profiles_by_key(self):
        return {p.key: p for p in self.all_profiles}

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
                _, target = target_namespace(prop)
                if target is not None:
                    seen.setdefault(ns_key(target.name), target.name)
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

    def get_class(self, namespace, classname) -> CIMClass | None:
        key = (ns_key(namespace), classname.lower())
        cached = self._classes.get(key, _UNKNOWN)
        if cached is _UNKNOWN:
            out = self.op("GetClass", classname, namespace=namespace, LocalOnly=False,
                          IncludeQualifiers=True)
            cached = self._classes[key] = out.value if out.ok else None
        return cached

    def has_class(self, namespace, classname) -> bool:
        """Whether the namespace defines the class (a filter may name it there)."""
        return self.get_class(namespace, classname) is not None

    def superclasses(self, namespace, classname) -> list:
        """The class and its superclasses (lower case), as the namespace defines them."""
        return [c.lower() for c in self.class_chain(namespace, classname)]

    def is_a(self, namespace, classname, base) -> bool:
        return base.lower() in self._ancestry(namespace, classname)

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

    # -- the profile knowledge base and the profile graph ---------------------------------

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
        key = ("definition", profile.key, None)
        if key not in self._derived:
            self._derived[key] = self.profile_defs.find(
                self.organization_name(profile), profile.name, profile.version)
        return self._derived[key]

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

    @cached_property
    def referenced_profiles(self) -> Outcome:
        """EnumerateInstances of CIM_ReferencedProfile in the interop namespace."""
        return self.op("EnumerateInstances", REFERENCED_PROFILE, namespace=self.interop_ns)

    @cached_property
    def reference_links(self) -> list:
        """[RefLink] of every CIM_ReferencedProfile instance."""
        out = self.referenced_profiles
        links = []
        for inst in (out.value or []) if out.ok else []:
            ante, dep = inst.get("Antecedent"), inst.get("Dependent")
            ante = _with_ns(ante, self.interop_ns) if isinstance(ante, CIMInstanceName) else None
            dep = _with_ns(dep, self.interop_ns) if isinstance(dep, CIMInstanceName) else None
            sub = self.is_a(self.interop_ns, inst.classname, SUBPROFILE_REQUIRES)
            links.append(RefLink(_with_ns(inst.path, self.interop_ns), inst.classname,
                                 ante, dep, sub))
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

    # -- central instances -----------------------------------------------------------

    def conformance_filter(self, ns) -> str | None:
        """CIM_ElementConformsToProfile where ``ns`` defines it (so a filter may
        name it there), else None."""
        return ECTP if self.has_class(ns, ECTP) else None

    def central_forward(self, path) -> Outcome:
        """The central class methodology from a registered profile:
        AssociatorNames over CIM_ElementConformsToProfile to the managed elements."""
        return self.op("AssociatorNames", path, AssocClass=self.conformance_filter(
            path.namespace or self.interop_ns), Role=PROFILE_ROLE, ResultRole=ELEMENT_ROLE)

    def central_reverse(self, element) -> Outcome:
        """From a managed element, in its namespace, back to its profiles."""
        return self.op("AssociatorNames", element, AssocClass=self.conformance_filter(
            element.namespace or self.interop_ns), Role=ELEMENT_ROLE, ResultRole=PROFILE_ROLE)

    @cached_property
    def conformance_namespaces(self) -> list:
        """The namespaces that define CIM_ElementConformsToProfile (the interop
        namespace first): where conformance can be served at all."""
        out = []
        for ns in self.namespaces:
            listed = self.op("EnumerateClassNames", namespace=ns, ClassName=ECTP,
                             DeepInheritance=True)
            if listed.ok:
                out.append(ns)
        return out

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

    def is_a_anywhere(self, classname, base, namespaces=()) -> bool:
        """Whether ``classname`` is a ``base``, as the first of ``namespaces``
        (then the interop namespace and the conformance namespaces) that
        defines ``classname`` says."""
        if classname.lower() == base.lower():
            return True
        for ns in [*namespaces, self.interop_ns, *self.conformance_namespaces]:
            if self.has_class(ns, classname):
                return self.is_a(ns, classname, base)
        return False

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
                    refs = self.op("ReferenceNames", _with_ns(path, ns), ResultClass=ECTP,
                                   Role=ELEMENT_ROLE)
                    for ref in (refs.value or []) if refs.ok else []:
                        out.setdefault(ref.classname.lower(), {}).setdefault(
                            ns_key(ns), {})[path_key(ref, ns)] = _with_ns(ref, ns)
        return {lc: {k: list(v.values()) for k, v in by_ns.items()}
                for lc, by_ns in out.items()}

    # -- associations -------------------------------------------------------------------

    @cached_property
    def associations(self) -> list:
        """Every CIM_ElementConformsToProfile class with instances or a
        declaration of its own, with its links (see the module docstring)."""
        declared = {}  # class lower -> {ns key: (ns, decl)}
        instances = {}  # class lower -> {ns key: [paths]}
        for ns in self.namespaces:
            listed = self.op("EnumerateClassNames", namespace=ns, ClassName=ECTP,
                             DeepInheritance=True)
            if not listed.ok:
                continue
            names = list(listed.value)
            for name in names:
                decl = self.get_class(ns, name)
                if decl is not None:
                    declared.setdefault(name.lower(), {})[ns_key(ns)] = (ns, decl)
            for lc, paths in self._instances_by_class(ns, names).items():
                instances.setdefault(lc, {})[ns_key(ns)] = paths
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
                decl = self.get_class(ns, paths[0].classname)
                if decl is not None:
                    declared.setdefault(lc, {})[key] = (ns, decl)
        out = []
        for lc, spots in declared.items():
            if lc == ECTP.lower() and not instances.get(lc) and not reached.get(lc):
                continue  # the base class is a subject only when it has instances of its own
            decls = {k: d for k, (_, d) in spots.items()}
            names = {k: n for k, (n, _) in spots.items()}
            classname = next(iter(decls.values())).classname
            assoc = Association(classname, decls, names, self.interop_ns)
            self._fill_links(assoc, instances.get(lc, {}), reached.get(lc, {}))
            out.append(assoc)
        for assoc in out:
            assoc.profile_labels = [p.label for p in self.linked_profiles(assoc)]
        if self._profile_filters:
            keys = {p.key for p in self.profiles}
            out = [a for a in out if {p.key for p in self.linked_profiles(a)} & keys]
        return sorted(out, key=lambda a: (a.label.lower(), a.classname.lower()))

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
                    _with_ns(path, ns)
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
                cs = path.keybindings.get(PROFILE_ROLE)
                me = path.keybindings.get(ELEMENT_ROLE)
                if not isinstance(cs, CIMInstanceName) or not isinstance(me, CIMInstanceName):
                    continue
                link = Link(_with_ns(cs, ns), _with_ns(me, ns), path.classname)
                assoc.links.setdefault(link.key, link)
                element_ns.setdefault(ns_key(link.element.namespace),
                                      self.spelling(link.element.namespace))
        for key in sorted(reached_by_ns or {}):
            ns = self.spelling(key)
            for path in reached_by_ns[key]:
                cs = path.keybindings.get(PROFILE_ROLE)
                me = path.keybindings.get(ELEMENT_ROLE)
                if not isinstance(cs, CIMInstanceName) or not isinstance(me, CIMInstanceName):
                    continue
                link = Link(_with_ns(cs, ns), _with_ns(me, ns), path.classname,
                            FROM_ELEMENT, path)
                if link.key not in assoc.links:
                    assoc.links[link.key] = link
                    element_ns.setdefault(ns_key(link.element.namespace),
                                          self.spelling(link.element.namespace))
        if not element_ns:  # no instance to learn from: what the declarations say
            guess = self._declared_element_namespace(assoc)
            if guess:
                element_ns[ns_key(guess)] = guess
        interop = ns_key(self.interop_ns)
        assoc.element_ns = [element_ns[k] for k in sorted(element_ns, key=lambda k: (k == interop, k))]

    def _declared_element_namespace(self, assoc):
        """Where the elements of a class without enumerable instances live, as
        its declarations say: the interop side's MSFT_TargetNamespace, else
        the one other namespace that declares it, else the interop namespace."""
        interop = ns_key(self.interop_ns)
        here = assoc.decls.get(interop)
        if here is not None:
            _, target = target_namespace(here.properties.get(ELEMENT_ROLE))
            if target is not None:
                return target.name
        others = [k for k in assoc.decls if k != interop]
        if len(others) == 1:
            return assoc.declared_in[others[0]]
        return self.interop_ns if here is not None else None

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
        return self.filter_class(assoc, ns).lower() == assoc.classname.lower()

    def links_under(self, filter_class, ns):
        """Every link of every association whose class is a ``filter_class``
        (what a traversal filtered by it may return)."""
        key = ("links-under", filter_class.lower(), ns_key(ns))
        if key not in self._derived:
            out = {}
            for other in self.associations:
                home = other.declared_in.get(ns_key(ns)) or next(iter(other.declared_in.values()))
                if self.is_a(home, other.classname, filter_class):
                    out.update(other.links)
            self._derived[key] = out
        return self._derived[key]

    def links_by_end(self, filter_class, ns, end):
        """links_under, indexed by one end: ``end`` "profile" gives {profile key:
        {element key: element path}}, "element" {element key: {profile key:
        profile path}}."""
        key = ("links-by", filter_class.lower(), ns_key(ns), end)
        if key not in self._derived:
            index = {}
            for (pk, ek), link in sorted(self.links_under(filter_class, ns).items()):
                if end == "profile":
                    index.setdefault(pk, {})[ek] = link.element
                else:
                    index.setdefault(ek, {})[pk] = link.profile
            self._derived[key] = index
        return self._derived[key]

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
                path = _with_ns(cs.value, self.interop_ns)
                keys.setdefault(path_key(path), path)
        return [p for p in self.all_profiles if p.key in keys]

    def _cached(self, what, assoc, ns, compute):
        key = (what, assoc.classname.lower(), ns_key(ns))
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]

    def enumerate(self, assoc, ns) -> Outcome:
        return self.op("EnumerateInstances", assoc.classname, namespace=ns)

    def enumerate_names(self, assoc, ns) -> Outcome:
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
                cs, me = _with_ns(cs, ns), _with_ns(me, ns)
                pairs[(path_key(cs), path_key(me))] = (cs, me)
        return pairs

    def pairs_by_namespace(self) -> dict:
        """{ns key: (set of pair keys, an enumeration Outcome)}: the links every
        association enumeration in a namespace lists (all classes together)."""
        cached = self._derived.get(("pairs-by-ns", None, None))
        if cached is None:
            cached = {}
            for other in self.associations:
                for ns in other.sides:
                    pairs = self.enumerated_pairs(other, ns)
                    if pairs is None:
                        continue
                    keys, listing = cached.setdefault(ns_key(ns), (set(), self.enumerate(other, ns)))
                    keys.update(pairs)
            self._derived[("pairs-by-ns", None, None)] = cached
        return cached

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
                    elem = _with_ns(path, self.interop_ns)
                    out.setdefault(path_key(elem), (elem, {}))[1][prof.key] = prof.path
        return out

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


def _unique(names):
    seen, out = set(), []
    for name in names:
        if ns_key(name) not in seen:
            seen.add(ns_key(name))
            out.append(name)
    return out


def _profile_matches(profile, spec):
    name, _, version = spec.partition(":")
    if (profile.name or "").lower() != name.strip().lower():
        return False
    return not version or (profile.version or "") == version.strip()
