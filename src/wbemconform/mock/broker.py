"""WMI's broker behaviour on top of pywbem_mock's MainProvider.

pywbem_mock serves static instances from its repository. This subclass adds
what WMI does and pywbem_mock does not:

* class creation with WMI's rules (:meth:`_resolve_class`): class qualifiers
  with the ToSubclass flavor (``Association``) are inherited, a property
  redeclared in a subclass overrides without ``Override``, ordinary classes
  may hold references (``__ProviderRegistration.Provider``), a reference's
  class need not exist in the namespace, and an ``MSFT_TargetNamespace`` must
  name a local namespace;
* dynamic classes (``[Dynamic, Provider("Name")]``) served by the provider
  registered under that Name *in the namespace of the request*, with its
  ``__InstanceProviderRegistration`` flags enforced;
* every read operation -- enumeration, GetInstance, ExecQuery (WQL),
  associator and reference operations and, through MainProvider, the pull
  operations -- sees dynamic instances;
* associator and reference filters resolve the class of the far end in the
  namespace its reference's ``MSFT_TargetNamespace`` names (else in the
  namespace of the request), so ``ResultClass`` works across namespaces
  exactly when the qualifier is there;
* association lookups go through indexes (static association instances are
  indexed per namespace, providers index their own), not a scan of the
  whole repository per call.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from pywbem import (
    CIM_ERR_FAILED, CIM_ERR_INVALID_CLASS, CIM_ERR_INVALID_NAMESPACE, CIM_ERR_INVALID_PARAMETER,
    CIM_ERR_INVALID_QUERY, CIM_ERR_INVALID_SUPERCLASS, CIM_ERR_NOT_FOUND,
    CIM_ERR_NOT_SUPPORTED, CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED, CIMError, CIMInstanceName,
    CIMQualifier)
from pywbem_mock import MainProvider

from ..namespaces import NamespaceSyntaxError, parse_namespace
from ..wql import WqlSyntaxError, parse_wql
from ..paths import copy_instance, copy_path, normalize_namespace, path_key, with_namespace
from .providers import (TARGET_NAMESPACE_QUALIFIER, ConformsToProfileProvider,
                        ProviderServices, target_namespace_of)

__all__ = ["WmiBroker", "Registration", "QUIRKS"]

PROVIDER_CLASS = "__Win32Provider"
REGISTRATION_CLASS = "__InstanceProviderRegistration"
ECTP_CLASS = "CIM_ElementConformsToProfile"

#: Deliberate broker defects a negative control can switch on: what a
#: CIMOM (not a provider) gets wrong, which no provider can seed.
#: MainProvider._get_instance's local_only for enumerations (pywbem_mock's own
#: enumeration passes its private INSTANCE_RETRIEVE_LOCAL_ONLY, which is False)
INSTANCE_RETRIEVE_LOCAL_ONLY = False

QUIRKS = {
    "result-class-ignored": "associator operations ignore the ResultClass filter",
    "role-ignored": "associator and reference operations ignore Role and ResultRole",
    "pull-ignores-assocclass": "OpenAssociatorInstancePaths ignores the AssocClass filter",
    "assocclass-exact": "AssocClass (and a reference operation's ResultClass) matches only "
                        "the class it names, not its subclasses",
}


def _shown_query(query, limit=200):
    """A query as error messages quote it: its repr, cut after ``limit``
    characters (a query may be megabytes long; the answer need not be)."""
    text = repr(query)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(query)} characters)"


@dataclass(frozen=True)
class RefProp:
    name: str
    reference_class: str
    target_namespace: str | None  # from MSFT_TargetNamespace, normalised


@dataclass(frozen=True)
class Registration:
    """A provider as registered in one namespace."""

    name: str
    namespace: str
    clsid: str | None
    has_instance_registration: bool
    supports_get: bool = False
    supports_put: bool = False
    supports_delete: bool = False
    supports_enumeration: bool = False
    query_support_levels: tuple = ()


class _Schema:
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


def _in_namespace(path, namespace):
    """``path`` if it names its namespace (normalised) and no host, else a copy
    that does (paths.with_namespace): the links read paths, they do not keep
    or change them."""
    ns = path.namespace
    if ns and path.host is None and ns == ns.strip("/"):
        return path
    return with_namespace(path, namespace)


@dataclass
class _Link:
    """One association instance, as the traversal sees it."""

    path: CIMInstanceName  # with namespace
    classname: str
    roles: dict  # role name -> CIMInstanceName (with namespace)
    instance: object = None  # the full instance, when a provider gave it

    @cached_property
    def keys(self):
        """role name -> path_key of the object it refers to (worked out once
        per link: a profile's 10,000 links are walked by many operations)."""
        return {role: path_key(value) for role, value in self.roles.items()}

    @cached_property
    def key(self):
        return path_key(self.path)


class WmiBroker(MainProvider):
    """MainProvider with WMI's broker behaviour (see the module docstring)."""

    def __init__(self, host, disable_pull_operations, cimrepository,
                 provider_dispatcher, providers=None,
                 accept_remote_target_namespaces=False, quirks=(), dialect="wmi"):
        super().__init__(host, disable_pull_operations, cimrepository,
                         provider_dispatcher)
        self._factories = {k.lower(): v for k, v in (providers or {}).items()}
        self._provider_objects = {}
        self._initialized = set()
        self._generations = defaultdict(int)
        self._bulk_generations = defaultdict(int)
        self._class_generations = defaultdict(int)
        self._instance_generations = defaultdict(int)
        self._schemas = {}
        self._registrations = {}
        self._static_links = {}
        self._link_memo = {}
        self.services = ProviderServices(self)
        #: Lenient mode: load a remote MSFT_TargetNamespace (and use its
        #: namespace part) instead of rejecting the class, as WMI would.
        self.accept_remote_target_namespaces = accept_remote_target_namespaces
        #: whether a class whose MSFT_TargetNamespace names a remote machine is
        #: refused (WMI's rule); a lenient load switches it back on afterwards,
        #: keeping what it loaded resolvable
        self.reject_remote_classes = not accept_remote_target_namespaces
        unknown = set(quirks) - set(QUIRKS)
        if unknown:
            raise ValueError(f"unknown mock quirk(s) {sorted(unknown)}; known: {sorted(QUIRKS)}")
        #: Seeded CIMOM defects, for negative controls only (see QUIRKS).
        self.quirks = frozenset(quirks)
        #: "wmi": a qualifier needs no declaration (WMI types it from its
        #: value); "dmtf": every qualifier must be declared (DSP0004).
        self.dialect = dialect

    # ------------------------------------------------------------------
    # change tracking
    # ------------------------------------------------------------------

    # What was derived from a namespace is stamped with these counters, so a
    # provider rebuilds its table only when what it read changed: an instance
    # write counts for its class and the class's superclasses (whose
    # enumerations it changes), a class write for that class (a class's
    # declaration depends on its superclasses' declarations: readers take the
    # counters of the whole ancestry); writes that reach further (loading,
    # modifying a class, a provider's writes, association instances stored in
    # several namespaces) move a namespace's bulk counter.

    def generation(self, namespace=None):
        """A number that changes with every write in the namespace (with
        None: in any namespace)."""
        if namespace is None:
            return sum(self._generations.values())
        return self._generations[normalize_namespace(namespace)]

    def instance_generation(self, namespace, classname):
        """A stamp that changes whenever the instances of the class (with its
        subclasses) may have changed in the namespace."""
        ns = normalize_namespace(namespace)
        return self._bulk_generations[ns], self._instance_generations[(ns, classname.lower())]

    def class_generation(self, namespace, classname):
        """A stamp that changes whenever the declaration of the class (with
        what it inherits) may have changed in the namespace."""
        ns = normalize_namespace(namespace)
        try:
            ancestry = self.schema(ns).ancestry(classname)
        except CIMError:
            ancestry = []
        return (self._bulk_generations[ns], tuple(ancestry),
                tuple(self._class_generations[(ns, c)] for c in ancestry))

    def changed(self, namespace=None, classes=True):
        """Forget what was derived from a namespace (all when None); an
        instance write (``classes=False``) leaves the class summary alone."""
        for ns in self._spaces(namespace):
            self._generations[ns] += 1
            self._bulk_generations[ns] += 1
            self._forget(ns, classes)

    def _spaces(self, namespace):
        return [normalize_namespace(namespace)] if namespace else \
            [normalize_namespace(ns) for ns in self.namespaces]

    def _forget(self, ns, classes):
        if classes:
            self._schemas.pop(ns, None)
        self._registrations.pop(ns, None)
        self._static_links.pop(ns, None)
        self._link_memo.clear()

    def instance_written(self, namespace, classname):
        """A static instance was created, modified or deleted: an association
        instance may be stored in several namespaces (all of them change),
        any other instance changes its class's enumerations in its own."""
        ns = normalize_namespace(namespace)
        try:
            schema = self.schema(ns)
        except CIMError:
            return self.changed(None, classes=False)
        if classname.lower() in schema.associations or not schema.has(classname):
            return self.changed(None, classes=False)
        self._generations[ns] += 1
        for cls in schema.ancestry(classname):
            self._instance_generations[(ns, cls)] += 1
        self._forget(ns, classes=False)

    def class_written(self, namespace, declared, emptied=()):
        """Classes were created or deleted: the declarations of ``declared``
        changed, and the enumerations of ``emptied`` lost instances (a
        deleted class's, its superclasses'); other classes are untouched."""
        ns = normalize_namespace(namespace)
        self._generations[ns] += 1
        for cls in declared:
            self._class_generations[(ns, cls.lower())] += 1
        for cls in emptied:
            self._instance_generations[(ns, cls.lower())] += 1
        self._forget(ns, classes=True)

    def schema(self, namespace) -> _Schema:
        ns = normalize_namespace(namespace)
        sch = self._schemas.get(ns)
        if sch is None:
            try:
                store = self.cimrepository.get_class_store(namespace)
            except KeyError:
                raise CIMError(CIM_ERR_INVALID_NAMESPACE,
                               f"namespace {namespace!r} does not exist") from None
            sch = _Schema(store, self.accept_remote_target_namespaces)
            self._schemas[ns] = sch
        return sch

    # ------------------------------------------------------------------
    # class creation: WMI's rules
    # ------------------------------------------------------------------

    def CreateClass(self, namespace, NewClass):
        try:
            return super().CreateClass(namespace, NewClass)
        finally:
            self.class_written(namespace, [NewClass.classname])

    def ModifyClass(self, namespace, ModifiedClass):
        try:
            return super().ModifyClass(namespace, ModifiedClass)
        finally:
            self.changed(namespace)

    def DeleteClass(self, namespace, ClassName):
        try:  # a class goes with its subclasses and their instances
            schema = self.schema(namespace)
            deleted = schema.subclasses(ClassName)
            emptied = deleted | set(schema.ancestry(ClassName))
        except CIMError:
            deleted = emptied = {ClassName.lower()}
        try:
            return super().DeleteClass(namespace, ClassName)
        finally:
            self.class_written(namespace, deleted, emptied)

    def _validate_dependencies_exist(self, klass, class_store, namespace):
        """WMI does not require a reference's class to exist in the namespace
        (the spec's interop-side class refers to Win32_Process, which lives in
        root/cimv2). What it does require: MSFT_TargetNamespace names a local
        namespace."""
        for prop in klass.properties.values():
            qual = prop.qualifiers.get(TARGET_NAMESPACE_QUALIFIER)
            if qual is None or qual.value is None:
                continue
            try:
                target = parse_namespace(qual.value)
            except NamespaceSyntaxError as exc:
                raise CIMError(
                    CIM_ERR_INVALID_PARAMETER,
                    f"{klass.classname}.{prop.name}: MSFT_TargetNamespace({qual.value!r}) "
                    f"is not a namespace: {exc}")
            if not target.is_local and self.reject_remote_classes:
                raise CIMError(
                    CIM_ERR_INVALID_PARAMETER,
                    f"{klass.classname}.{prop.name}: MSFT_TargetNamespace({qual.value!r}) "
                    f"names namespace {target.name!r} on the remote machine "
                    f"{target.host!r}; MSFT_TargetNamespace cannot point to a "
                    "namespace on a remote computer")
        for prop in klass.properties.values():
            if prop.type == "string" and "EmbeddedInstance" in prop.qualifiers:
                ei = prop.qualifiers["EmbeddedInstance"].value
                if ei and ei.lower() != klass.classname.lower() and \
                        not class_store.object_exists(ei):
                    raise CIMError(
                        CIM_ERR_INVALID_PARAMETER,
                        f"class {ei!r} named by EmbeddedInstance on "
                        f"{klass.classname}.{prop.name} does not exist in {namespace!r}")

    def _validate_qualifiers(self, qualifiers, qualifier_store, new_class, scope):
        """pywbem_mock's checks of qualifiers against their declarations (as
        pywbem_mock 1.9.1 makes them, without copying each declaration); in
        the WMI dialect an undeclared qualifier is accepted with the type of
        its value."""
        for name, qual in qualifiers.items():
            if not qualifier_store.object_exists(name):
                if self.dialect == "wmi":
                    continue
                raise CIMError(
                    CIM_ERR_INVALID_PARAMETER,
                    f"Qualifier {name!r} used in new class {new_class.classname!r} has no "
                    "qualifier declaration in repository.")
            decl = qualifier_store.get(name, copy=False)
            if qual.type != decl.type:
                raise CIMError(
                    CIM_ERR_INVALID_PARAMETER,
                    f"Qualifier {name!r} used in new class {new_class.classname!r} has "
                    f"invalid type {qual.type!r} (Qualifier declaration type: {decl.type!r}).")
            if not decl.scopes[scope] and not decl.scopes["ANY"]:
                raise CIMError(
                    CIM_ERR_INVALID_PARAMETER,
                    f"Qualifier {name!r} in new class {new_class.classname!r} is used in "
                    f"invalid scope: {scope!r}. (QualifierDeclaration scopes: "
                    f"({', '.join(s for s, v in decl.scopes.items() if v)})")

    def _init_qualifier(self, qualifier, qualifier_store):
        """Flavor defaults from the declaration (pywbem_mock's rule, without a
        copy); an undeclared (WMI) qualifier is not propagated, overridable."""
        qualifier.propagated = False
        if not qualifier_store.object_exists(qualifier.name):
            if self.dialect != "wmi":
                raise CIMError(CIM_ERR_INVALID_PARAMETER,
                               f"qualifier {qualifier.name!r} has no declaration")
            if qualifier.tosubclass is None:
                qualifier.tosubclass = False
            if qualifier.overridable is None:
                qualifier.overridable = True
            return
        decl = qualifier_store.get(qualifier.name, copy=False)
        if qualifier.tosubclass is None:
            qualifier.tosubclass = True if decl.tosubclass is None else decl.tosubclass
        if qualifier.overridable is None:
            qualifier.overridable = True if decl.overridable is None else decl.overridable
        if qualifier.translatable is None:
            qualifier.translatable = decl.translatable

    def _resolve_class(self, new_class, namespace, qualifier_store, verbose=None):
        superclass = None
        if new_class.superclass:
            try:
                superclass = self.get_class(namespace, new_class.superclass,
                                            local_only=False, include_qualifiers=True,
                                            include_classorigin=True)
            except CIMError as ce:
                if ce.status_code == CIM_ERR_NOT_FOUND:
                    raise CIMError(
                        CIM_ERR_INVALID_SUPERCLASS,
                        f"superclass {new_class.superclass!r} of class "
                        f"{new_class.classname!r} does not exist in namespace {namespace!r}")
                raise
        # Inherited class qualifiers with the ToSubclass flavor (Association,
        # above all): the subclass has them even when its MOF does not repeat
        # them, as DSP0004 and WMI say.
        inherited = {}
        if superclass is not None:
            for name, qual in superclass.qualifiers.items():
                if qual.tosubclass and name not in new_class.qualifiers:
                    inherited[name] = qual.copy()
        for name, qual in inherited.items():
            new_class.qualifiers[name] = qual
        is_association = bool(new_class.qualifiers.get("Association") and
                              new_class.qualifiers["Association"].value)
        if is_association and superclass is not None and \
                not superclass.qualifiers.get("Association"):
            raise CIMError(
                CIM_ERR_INVALID_PARAMETER,
                f"association {new_class.classname!r} derives from "
                f"{superclass.classname!r}, which is not an association")
        # WMI: redeclaring an inherited property is an override.
        implicit = []
        if superclass is not None:
            for name, prop in new_class.properties.items():
                if name in superclass.properties and "Override" not in prop.qualifiers:
                    prop.qualifiers["Override"] = CIMQualifier("Override", prop.name)
                    implicit.append(prop)
        if qualifier_store:
            scope = "ASSOCIATION" if is_association else (
                "INDICATION" if new_class.qualifiers.get("Indication") else "CLASS")
            own = {n: q for n, q in new_class.qualifiers.items() if n not in inherited}
            self._validate_qualifiers(own, qualifier_store, new_class, scope)
            for prop in new_class.properties.values():
                self._validate_qualifiers(
                    prop.qualifiers, qualifier_store, new_class,
                    "reference" if prop.type == "reference" else "PROPERTY")
            for meth in new_class.methods.values():
                self._validate_qualifiers(meth.qualifiers, qualifier_store, new_class, "METHOD")
                for parm in meth.parameters.values():
                    self._validate_qualifiers(parm.qualifiers, qualifier_store,
                                              new_class, "PARAMETER")
        own_quals = {n: q for n, q in new_class.qualifiers.items() if n not in inherited}
        self._resolve_qualifiers(own_quals, {}, new_class, superclass,
                                 new_class.classname, "class", qualifier_store,
                                 propagate=False)
        for name, qual in inherited.items():
            qual.propagated = True
        classrepo = self.cimrepository.get_class_store(namespace)
        self._resolve_objects(new_class.properties,
                              superclass.properties if superclass else None,
                              new_class, superclass, classrepo, qualifier_store, "Property")
        self._resolve_objects(new_class.methods,
                              superclass.methods if superclass else None,
                              new_class, superclass, classrepo, qualifier_store, "Method")
        for prop in implicit:
            del prop.qualifiers["Override"]
        return new_class

    # ------------------------------------------------------------------
    # providers and their registrations
    # ------------------------------------------------------------------

    def registrations(self, namespace):
        """{provider name (lower): Registration} in a namespace."""
        ns = normalize_namespace(namespace)
        regs = self._registrations.get(ns)
        if regs is not None:
            return regs
        regs = {}
        schema = self.schema(namespace)
        if schema.has(PROVIDER_CLASS):
            providers = schema.subclasses(PROVIDER_CLASS)
            registrations = schema.subclasses(REGISTRATION_CLASS) if \
                schema.has(REGISTRATION_CLASS) else set()
            store = self.cimrepository.get_instance_store(namespace)
            provs, inst_regs = {}, {}
            for inst in store.iter_values(copy=False):
                lc = inst.classname.lower()
                if lc in providers and inst.get("Name"):
                    provs[path_key(inst.path, namespace)] = inst
                elif lc in registrations and isinstance(inst.get("Provider"), CIMInstanceName):
                    inst_regs[path_key(inst["Provider"], namespace)] = inst
            for key, prov in provs.items():
                reg = inst_regs.get(key)
                flags = {}
                if reg is not None:
                    flags = dict(
                        supports_get=bool(reg.get("SupportsGet")),
                        supports_put=bool(reg.get("SupportsPut")),
                        supports_delete=bool(reg.get("SupportsDelete")),
                        supports_enumeration=bool(reg.get("SupportsEnumeration")),
                        query_support_levels=tuple(reg.get("QuerySupportLevels") or ()))
                regs[prov["Name"].lower()] = Registration(
                    name=prov["Name"], namespace=namespace, clsid=prov.get("ClsId"),
                    has_instance_registration=reg is not None, **flags)
        self._registrations[ns] = regs
        return regs

    def is_dynamic(self, namespace, classname):
        try:
            return classname.lower() in self.schema(namespace).dynamic
        except CIMError:
            return False

    def provider_for(self, namespace, classname):
        """(provider object, Registration) serving a dynamic class, or a CIMError."""
        schema = self.schema(namespace)
        name = schema.dynamic.get(classname.lower())
        cls = schema.names.get(classname.lower(), classname)
        if not name:
            raise CIMError(CIM_ERR_FAILED,
                           f"class {cls} in namespace {namespace} is Dynamic but has no "
                           "Provider qualifier: no provider can serve it")
        reg = self.registrations(namespace).get(name.lower())
        if reg is None:
            raise CIMError(
                CIM_ERR_FAILED,
                f"provider {name!r} of class {cls} is not registered in namespace "
                f"{namespace}: no {PROVIDER_CLASS} instance with Name = {name!r} there "
                "(an association provider must be registered in the interop and the "
                "implementation namespace)")
        if not reg.has_instance_registration:
            raise CIMError(
                CIM_ERR_NOT_SUPPORTED,
                f"provider {name!r} is registered in namespace {namespace} but has no "
                f"{REGISTRATION_CLASS}: it serves no instance operations")
        provider = self._provider_objects.get(name.lower())
        if provider is None:
            factory = self._factories.get(name.lower())
            if factory is not None:
                provider = factory()
            elif schema.is_subclass(classname, ECTP_CLASS):
                provider = ConformsToProfileProvider(name)
            else:
                raise CIMError(
                    CIM_ERR_FAILED,
                    f"provider {name!r} (class {cls}) has no implementation in the mock: "
                    "only CIM_ElementConformsToProfile subclasses are served generically; "
                    "register a Python provider with connect(providers={...})")
            self._provider_objects[name.lower()] = provider
        init_key = (name.lower(), normalize_namespace(namespace))
        if init_key not in self._initialized:
            self._initialized.add(init_key)
            provider.initialize(namespace, self.services)
        return provider, reg

    @staticmethod
    def _refuse(reg, capability, flag):
        raise CIMError(
            CIM_ERR_NOT_SUPPORTED,
            f"provider {reg.name!r} does not support {capability} in namespace "
            f"{reg.namespace} ({flag} = FALSE in its {REGISTRATION_CLASS})")

    def _enumerated(self, namespace, classname):
        """A provider's instances of a class (read, not copied), after the
        registration allows enumeration."""
        provider, reg = self.provider_for(namespace, classname)
        if not reg.supports_enumeration:
            self._refuse(reg, "enumeration", "SupportsEnumeration")
        return provider.enumerate_instances(namespace,
                                            self.schema(namespace).names[classname.lower()])

    def _dynamic_instances(self, namespace, classname):
        return [self._as_served(inst, namespace)
                for inst in self._enumerated(namespace, classname)]

    def _dynamic_paths(self, namespace, classname):
        """The paths of a provider's instances, as EnumerateInstanceNames
        serves them (copies of the paths alone, not of the instances)."""
        out = []
        for inst in self._enumerated(namespace, classname):
            if inst.path is None:
                raise self._pathless(inst)
            out.append(with_namespace(inst.path, namespace))
        return out

    @staticmethod
    def _pathless(inst):
        return CIMError(CIM_ERR_FAILED, f"the provider returned an instance of "
                                        f"{inst.classname} without a path")

    @staticmethod
    def _as_served(inst, namespace):
        """A copy of a provider's instance for the client, its path in
        ``namespace`` unless it names one, without a host (one path copy)."""
        if inst.path is None:
            raise WmiBroker._pathless(inst)
        return copy_instance(inst, with_namespace(inst.path, namespace))

    def _dynamic_get(self, path):
        provider, reg = self.provider_for(path.namespace, path.classname)
        if not reg.supports_get:
            self._refuse(reg, "GetInstance", "SupportsGet")
        inst = provider.get_instance(path.namespace, path)
        if inst is None:
            raise CIMError(CIM_ERR_NOT_FOUND,
                           f"no instance {path} (provider {reg.name!r} has none)")
        return self._as_served(inst, path.namespace)

    def dynamic_write(self, namespace, kind, obj):
        """CreateInstance/ModifyInstance ('put') or DeleteInstance ('delete')."""
        classname = obj.classname
        provider, reg = self.provider_for(namespace, classname)
        if kind == "put":
            if not reg.supports_put:
                self._refuse(reg, "CreateInstance/ModifyInstance", "SupportsPut")
            result = provider.put_instance(namespace, obj)
        else:
            if not reg.supports_delete:
                self._refuse(reg, "DeleteInstance", "SupportsDelete")
            result = provider.delete_instance(namespace, obj)
        self.changed(namespace, classes=False)
        return result

    # ------------------------------------------------------------------
    # services for providers
    # ------------------------------------------------------------------

    def namespaces_declaring(self, classname):
        """The namespaces that declare a class (a look in each class store, no
        copy: providers ask this on every operation)."""
        out = []
        for ns in self.namespaces:
            try:
                if self.schema(ns).has(classname):
                    out.append(ns)
            except CIMError:
                continue
        return out

    def class_or_none(self, namespace, classname):
        try:
            return self.get_class(namespace, classname, local_only=False,
                                  include_qualifiers=True, include_classorigin=False)
        except CIMError:
            return None

    def instance_names_or_empty(self, namespace, classname):
        try:
            return [with_namespace(p, namespace)
                    for p in self.EnumerateInstanceNames(namespace, classname)]
        except CIMError as exc:
            if exc.status_code in (CIM_ERR_INVALID_CLASS, CIM_ERR_NOT_FOUND,
                                   CIM_ERR_INVALID_NAMESPACE):
                return []
            raise

    def instances_or_empty(self, namespace, classname):
        try:
            out = self.EnumerateInstances(namespace, classname)
        except CIMError as exc:
            if exc.status_code in (CIM_ERR_INVALID_CLASS, CIM_ERR_NOT_FOUND,
                                   CIM_ERR_INVALID_NAMESPACE):
                return []
            raise
        for inst in out:
            inst.path = with_namespace(inst.path, namespace)
        return out

    def instance_or_none(self, path):
        try:
            return self.GetInstance(path)
        except CIMError as exc:
            if exc.status_code in (CIM_ERR_NOT_FOUND, CIM_ERR_INVALID_CLASS,
                                   CIM_ERR_INVALID_NAMESPACE):
                return None
            raise

    # ------------------------------------------------------------------
    # instance read operations
    # ------------------------------------------------------------------

    def _property_list(self, namespace, classname, property_list, deep_inheritance):
        if deep_inheritance is None or deep_inheritance:
            return property_list
        cls = self.get_class(namespace, classname, local_only=False)
        names = list(cls.properties.keys())
        if property_list is None:
            return names
        wanted = {p.lower() for p in property_list}
        return [n for n in names if n.lower() in wanted]

    def _static_paths(self, namespace, classname):
        """Paths (not copies) of the static instances of a class and its subclasses."""
        tree = self.schema(namespace).subclasses(classname)
        store = self.cimrepository.get_instance_store(namespace)
        return [inst.path for inst in store.iter_values(copy=False)
                if inst.classname.lower() in tree]

    def _split(self, namespace, classname):
        """(dynamic classes, has static classes) in a class's subtree."""
        schema = self.schema(namespace)
        tree = schema.subclasses(classname)
        dyn = sorted(c for c in tree if c in schema.dynamic)
        return dyn, len(dyn) < len(tree)

    def EnumerateInstances(self, namespace, ClassName, LocalOnly=None,
                           DeepInheritance=None, IncludeQualifiers=None,
                           IncludeClassOrigin=None, PropertyList=None):
        self.validate_namespace(namespace)
        if not self.class_exists(namespace, ClassName):
            raise CIMError(CIM_ERR_INVALID_CLASS,
                           f"class {ClassName!r} does not exist in namespace {namespace!r}")
        dyn, has_static = self._split(namespace, ClassName)
        out = []
        pl = self._property_list(namespace, ClassName, PropertyList, DeepInheritance)
        if has_static:
            # pywbem_mock deep-copies every instance of the namespace before
            # filtering; copy only the matches
            store = self.cimrepository.get_instance_store(namespace)
            out = [self._get_instance(path, store, INSTANCE_RETRIEVE_LOCAL_ONLY,
                                      IncludeClassOrigin, IncludeQualifiers, pl)
                   for path in self._static_paths(namespace, ClassName)]
        if dyn:
            for cls in dyn:
                for inst in self._dynamic_instances(namespace, cls):
                    self.filter_properties(inst, pl)
                    out.append(inst)
        return out

    def EnumerateInstanceNames(self, namespace, ClassName):
        self.validate_namespace(namespace)
        if not self.class_exists(namespace, ClassName):
            raise CIMError(CIM_ERR_INVALID_CLASS,
                           f"class {ClassName!r} does not exist in namespace {namespace!r}")
        dyn, has_static = self._split(namespace, ClassName)
        out = ([copy_path(p, p.namespace, p.host) for p in self._static_paths(namespace, ClassName)]
               if has_static else [])
        for cls in dyn:
            out.extend(self._dynamic_paths(namespace, cls))
        return out

    def GetInstance(self, InstanceName, LocalOnly=None, IncludeQualifiers=None,
                    IncludeClassOrigin=None, PropertyList=None):
        namespace = InstanceName.namespace
        if not self.is_dynamic(namespace, InstanceName.classname):
            return super().GetInstance(InstanceName, LocalOnly=LocalOnly,
                                       IncludeQualifiers=IncludeQualifiers,
                                       IncludeClassOrigin=IncludeClassOrigin,
                                       PropertyList=PropertyList)
        self.validate_namespace(namespace)
        inst = self._dynamic_get(InstanceName)
        self.filter_properties(inst, PropertyList)
        return inst

    def ExecQuery(self, namespace, QueryLanguage, Query):
        self.validate_namespace(namespace)
        if (QueryLanguage or "").upper() != "WQL":
            raise CIMError(CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED,
                           f"query language {QueryLanguage!r} is not supported; use WQL")
        shown = _shown_query(Query)
        try:
            query = parse_wql(Query)
        except WqlSyntaxError as exc:
            raise CIMError(CIM_ERR_INVALID_QUERY, f"{shown}: {exc}") from None
        if not self.class_exists(namespace, query.classname):
            raise CIMError(CIM_ERR_INVALID_QUERY,
                           f"{shown}: class {query.classname!r} does not exist in {namespace!r}")
        dyn, has_static = self._split(namespace, query.classname)
        out = []
        if has_static:
            out.extend(i for i in super().EnumerateInstances(namespace, query.classname)
                       if query.matches(i))
        for cls in dyn:
            provider, reg = self.provider_for(namespace, cls)
            answered = provider.exec_query(namespace, query) if reg.query_support_levels else None
            if answered is not None:
                # the provider evaluated the query itself; like WMI, pass on what
                # it says (a wrong answer must reach the client to be caught)
                out.extend(self._as_served(i, namespace) for i in answered)
            else:
                out.extend(i for i in self._dynamic_instances(namespace, cls) if query.matches(i))
        if query.properties is not None:
            for inst in out:
                self.filter_properties(inst, query.properties)
        return out

    # ------------------------------------------------------------------
    # associations
    # ------------------------------------------------------------------

    def _static_index(self, namespace):
        ns = normalize_namespace(namespace)
        index = self._static_links.get(ns)
        if index is not None:
            return index
        index = defaultdict(list)
        schema = self.schema(namespace)
        assoc = schema.associations
        if assoc:
            store = self.cimrepository.get_instance_store(namespace)
            for inst in store.iter_values(copy=False):
                if inst.classname.lower() not in assoc:
                    continue
                roles = {p.name: with_namespace(p.value, namespace)
                         for p in inst.properties.values()
                         if p.type == "reference" and isinstance(p.value, CIMInstanceName)}
                link = _Link(with_namespace(inst.path, namespace), inst.classname, roles)
                for value in roles.values():
                    index[path_key(value)].append(link)
        self._static_links[ns] = index
        return index

    def _could_refer_to(self, namespace, assoc_class, target):
        """Whether an association class has a reference that can hold the target
        (the target's class is, in its own namespace, a subclass of the
        reference's class)."""
        try:
            ancestry = self.schema(target.namespace).ancestry(target.classname)
        except CIMError:
            return False
        return any(r.reference_class.lower() in ancestry
                   for r in self.schema(namespace).associations.get(assoc_class, ()))

    def _links(self, namespace, target, assoc_class):
        """Association instances in ``namespace`` that refer to ``target``."""
        schema = self.schema(namespace)
        allowed = schema.subclasses(assoc_class) if assoc_class else None
        if allowed is not None and "assocclass-exact" in self.quirks:
            allowed = {assoc_class.lower()}
        key = path_key(target)
        for link in self._static_index(namespace).get(key, ()):
            if allowed is None or link.classname.lower() in allowed:
                yield link
        for cls in sorted(schema.associations):
            if cls not in schema.dynamic or (allowed is not None and cls not in allowed):
                continue
            if not self._could_refer_to(namespace, cls, target):
                continue
            provider, reg = self.provider_for(namespace, cls)
            if not reg.supports_enumeration and not reg.supports_get:
                self._refuse(reg, "association traversal", "SupportsEnumeration")
            for inst in provider.references_to(namespace, schema.names[cls], target):
                yield self._dynamic_link(namespace, inst)

    #: bound on the remembered links of provider instances (a provider that
    #: makes new instances on every call must not grow the memory)
    LINK_MEMO_LIMIT = 200_000

    def _dynamic_link(self, namespace, inst):
        """The link of a provider's association instance, remembered while the
        provider hands out the same instance object (its table) and nothing
        changed: the instance is read, not copied (the operations copy what
        they return)."""
        memo_key = (normalize_namespace(namespace), id(inst))
        held = self._link_memo.get(memo_key)
        if held is not None and held[0] is inst:
            return held[1]
        roles = {p.name: _in_namespace(p.value, namespace)
                 for p in inst.properties.values()
                 if isinstance(p.value, CIMInstanceName)}
        link = _Link(_in_namespace(inst.path, namespace), inst.classname, roles, inst)
        if len(self._link_memo) >= self.LINK_MEMO_LIMIT:
            self._link_memo.clear()
        self._link_memo[memo_key] = (inst, link)
        return link

    def _source(self, namespace, object_name):
        """Validate the source object of an association operation."""
        self.validate_namespace(namespace)
        source = with_namespace(object_name, namespace)
        src_ns = source.namespace
        if normalize_namespace(src_ns) not in {normalize_namespace(n) for n in self.namespaces}:
            raise CIMError(CIM_ERR_INVALID_PARAMETER,
                           f"namespace {src_ns!r} of the source object does not exist")
        if not self.class_exists(src_ns, source.classname):
            raise CIMError(CIM_ERR_INVALID_PARAMETER,
                           f"class {source.classname!r} of the source object does not "
                           f"exist in namespace {src_ns!r}")
        if self.is_dynamic(src_ns, source.classname):
            exists = self.instance_or_none(source) is not None
        else:  # a static instance: look, do not copy
            store = self.cimrepository.get_instance_store(src_ns)
            key = copy_path(source, source.namespace)
            exists = store.object_exists(key)
        if not exists:
            raise CIMError(CIM_ERR_NOT_FOUND, f"the source object {source} does not exist")
        return source

    def _check_class_param(self, namespace, classname, param, anywhere=False):
        if classname is None or self.class_exists(namespace, classname):
            return
        if anywhere and any(self.class_exists(ns, classname) for ns in self.namespaces):
            return
        raise CIMError(CIM_ERR_INVALID_PARAMETER,
                       f"{param} {classname!r} is not a class in namespace {namespace!r}")

    def _far_is_a(self, namespace, link, role, far, result_class):
        """Whether the far end is a ResultClass. For a provider's (dynamic)
        association, classes resolve where WMI resolves them: in the namespace
        the reference's MSFT_TargetNamespace names, or else in the namespace
        of the request. A static association instance is the repository's own
        data, resolved as DMTF servers do: in the far object's namespace."""
        if "result-class-ignored" in self.quirks:
            return True
        ref = self.schema(namespace).ref(link.classname, role)
        if link.instance is None:  # static
            where = far.namespace or namespace
        else:
            where = (ref.target_namespace if ref and ref.target_namespace else namespace)
        try:
            schema = self.schema(where)
        except CIMError:
            return False
        if normalize_namespace(far.namespace) != normalize_namespace(where) and \
                not schema.has(far.classname):
            return False
        return schema.is_subclass(far.classname, result_class)

    def _associated(self, namespace, ObjectName, AssocClass, ResultClass, Role, ResultRole):
        if "role-ignored" in self.quirks:
            Role = ResultRole = None
        source = self._source(namespace, ObjectName)
        self._check_class_param(namespace, AssocClass, "AssocClass")
        self._check_class_param(namespace, ResultClass, "ResultClass", anywhere=True)
        key = path_key(source)
        found = {}
        for link in self._links(namespace, source, AssocClass):
            keys = link.keys
            src_roles = [r for r, k in keys.items() if k == key]
            for src_role in src_roles:
                if Role and src_role.lower() != Role.lower():
                    continue
                for role, far in link.roles.items():
                    if role == src_role:
                        continue
                    if ResultRole and role.lower() != ResultRole.lower():
                        continue
                    if ResultClass and not self._far_is_a(namespace, link, role, far, ResultClass):
                        continue
                    found.setdefault(keys[role], far)
        return list(found.values())

    def _referencing(self, namespace, ObjectName, ResultClass, Role):
        if "role-ignored" in self.quirks:
            Role = None
        source = self._source(namespace, ObjectName)
        self._check_class_param(namespace, ResultClass, "ResultClass")
        schema = self.schema(namespace)
        key = path_key(source)
        found = {}
        exact = "assocclass-exact" in self.quirks
        for link in self._links(namespace, source, ResultClass):
            if ResultClass and not (link.classname.lower() == ResultClass.lower() if exact
                                    else schema.is_subclass(link.classname, ResultClass)):
                continue
            if Role and not any(r.lower() == Role.lower() and k == key
                                for r, k in link.keys.items()):
                continue
            found.setdefault(link.key, link)
        return list(found.values())

    def _served_path(self, path, namespace=None):
        """A copy of ``path`` for the client: on this server's host, in
        ``namespace`` when the path names none."""
        return with_namespace(path, namespace, self.host)

    def AssociatorNames(self, namespace, ObjectName, AssocClass=None,
                        ResultClass=None, Role=None, ResultRole=None):
        if not isinstance(ObjectName, CIMInstanceName):
            return super().AssociatorNames(namespace, ObjectName, AssocClass,
                                           ResultClass, Role, ResultRole)
        return [self._served_path(p) for p in
                self._associated(namespace, ObjectName, AssocClass, ResultClass, Role, ResultRole)]

    def Associators(self, namespace, ObjectName, AssocClass=None,
                    ResultClass=None, Role=None, ResultRole=None,
                    IncludeQualifiers=None, IncludeClassOrigin=None, PropertyList=None):
        if not isinstance(ObjectName, CIMInstanceName):
            return super().Associators(namespace, ObjectName, AssocClass, ResultClass,
                                       Role, ResultRole, IncludeQualifiers,
                                       IncludeClassOrigin, PropertyList)
        out = []
        for path in self._associated(namespace, ObjectName, AssocClass, ResultClass,
                                     Role, ResultRole):
            inst = self.instance_or_none(path)
            if inst is None:  # a dangling reference: nothing to return for it
                continue
            inst = copy_instance(inst, self._served_path(inst.path, path.namespace))
            self.filter_properties(inst, PropertyList)
            out.append(inst)
        return out

    def ReferenceNames(self, namespace, ObjectName, ResultClass=None, Role=None):
        if not isinstance(ObjectName, CIMInstanceName):
            return super().ReferenceNames(namespace, ObjectName, ResultClass, Role)
        return [self._served_path(link.path) for link in
                self._referencing(namespace, ObjectName, ResultClass, Role)]

    def References(self, namespace, ObjectName, ResultClass=None, Role=None,
                   IncludeQualifiers=None, IncludeClassOrigin=None, PropertyList=None):
        if not isinstance(ObjectName, CIMInstanceName):
            return super().References(namespace, ObjectName, ResultClass, Role,
                                      IncludeQualifiers, IncludeClassOrigin, PropertyList)
        out = []
        for link in self._referencing(namespace, ObjectName, ResultClass, Role):
            inst = link.instance if link.instance is not None else \
                self.instance_or_none(link.path)  # a static one: a copy
            if inst is None:  # a dangling reference: nothing to return for it
                continue
            inst = copy_instance(inst, self._served_path(link.path))  # ours to filter
            self.filter_properties(inst, PropertyList)
            out.append(inst)
        return out

    def OpenAssociatorInstancePaths(self, namespace, InstanceName, AssocClass=None,
                                    ResultClass=None, Role=None, ResultRole=None,
                                    FilterQueryLanguage=None, FilterQuery=None,
                                    OperationTimeout=None, ContinueOnError=None,
                                    MaxObjectCount=None):
        if "pull-ignores-assocclass" in self.quirks:
            AssocClass = None
        return super().OpenAssociatorInstancePaths(
            namespace, InstanceName, AssocClass=AssocClass, ResultClass=ResultClass, Role=Role,
            ResultRole=ResultRole, FilterQueryLanguage=FilterQueryLanguage,
            FilterQuery=FilterQuery, OperationTimeout=OperationTimeout,
            ContinueOnError=ContinueOnError, MaxObjectCount=MaxObjectCount)

    # ------------------------------------------------------------------
    # OpenQueryInstances: WQL, paired with PullInstances (DSP0200)
    # ------------------------------------------------------------------

    def OpenQueryInstances(self, namespace, FilterQueryLanguage, FilterQuery,
                           ReturnQueryResultClass=None, OperationTimeout=None,
                           ContinueOnError=None, MaxObjectCount=None):
        self._validate_pull_operations_enabled()
        self.validate_namespace(namespace)
        instances = self.ExecQuery(namespace, FilterQueryLanguage, FilterQuery)
        result_class = None
        if ReturnQueryResultClass:
            result_class = self.get_class(namespace, parse_wql(FilterQuery).classname,
                                          local_only=False, include_qualifiers=False,
                                          include_classorigin=False)
        return self._openquery_response(namespace, instances, "PullInstances",
                                        OperationTimeout, MaxObjectCount, ContinueOnError,
                                        result_class)
