"""Associator and reference operations over static and dynamic association
instances.

* Filters resolve the class of the far end in the namespace its
  reference's ``MSFT_TargetNamespace`` names (else in the namespace of the
  request), so ``ResultClass`` works across namespaces exactly when the
  qualifier is there;
* lookups go through indexes (static association instances are indexed per
  namespace, providers index their own: ``references_to``), not a scan of
  the whole repository per call.

Each operation validates first -- the namespace, the source object (it must
exist), the class parameters -- and then routes to the links (association
instances) that refer to the source.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from pywbem import (CIM_ERR_FAILED, CIM_ERR_INVALID_PARAMETER, CIM_ERR_NOT_FOUND, CIMError,
                    CIMInstanceName)

from ...paths import copy_instance, copy_path, normalize_namespace, path_key, with_namespace

__all__ = ["AssociationsMixin"]

#: the association DSP1033 links profiles and their conformant elements with
ECTP = "CIM_ElementConformsToProfile"


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


class AssociationsMixin:
    """Association operations of :class:`wbemconform.mock.broker.WmiBroker`.

    Keeps ``_static_links`` (namespace -> {path key: [_Link]}) and
    ``_link_memo`` (links of provider instances), made by
    ``WmiBroker.__init__`` and forgotten on change."""

    #: bound on the remembered links of provider instances (a provider that
    #: makes new instances on every call must not grow the memory)
    LINK_MEMO_LIMIT = 200_000

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
        links = list(self._links(namespace, source, AssocClass))
        if "role-fails-without-assocclass" in self.quirks and not AssocClass:
            self._role_failure(links, Role, ResultRole)
        for link in links:
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

    @staticmethod
    def _role_failure(links, role, result_role):
        """The quirk role-fails-without-assocclass: CIM_ERR_FAILED where a
        CIMOM's own role handling breaks (an unknown role, Role = ResultRole)."""
        known = {r.lower() for link in links for r in link.roles}
        asked = [r for r in (role, result_role) if r]
        if (role and result_role and role.lower() == result_role.lower()) or \
                any(r.lower() not in known for r in asked):
            raise CIMError(CIM_ERR_FAILED, "internal error resolving the association roles")

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

    def conformant_elements(self, profile):
        """The ManagedElement ends of every CIM_ElementConformsToProfile link
        (static or a provider's, any subclass) whose ConformantStandard is
        ``profile`` (a path with its namespace), in every namespace that
        declares the association: what DSP1033 1.1's GetCentralInstances
        returns (:mod:`wbemconform.mock.methods`). The links are found as the
        association operations find them, but no seeded traversal quirk
        applies: no filter is involved. A provider's error is raised."""
        key = path_key(profile)
        found = {}
        for namespace in self.namespaces_declaring(ECTP):
            schema = self.schema(namespace)
            for link in self._links(namespace, profile, None):
                if not schema.is_subclass(link.classname, ECTP):
                    continue
                roles = {r.lower(): r for r in link.roles}
                std, elem = roles.get("conformantstandard"), roles.get("managedelement")
                if std is None or elem is None or link.keys[std] != key:
                    continue
                found.setdefault(link.keys[elem], link.roles[elem])
        return [self._served_path(p) for p in found.values()]

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
