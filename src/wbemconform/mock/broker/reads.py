"""Instance reads: enumeration, GetInstance, ExecQuery (WQL) and
OpenQueryInstances see static and dynamic instances alike.

Each operation validates first -- the namespace, the class, the query --
and then routes: the static instances of the class's subtree come from
pywbem_mock's repository (copying only the matches), the dynamic classes
of the subtree go to their providers (:mod:`wbemconform.mock.broker.registry`).
"""

from __future__ import annotations

from pywbem import (CIM_ERR_INVALID_CLASS, CIM_ERR_INVALID_QUERY,
                    CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED, CIMError)

from ...paths import copy_path
from ...wql import WqlSyntaxError, parse_wql
from .hooks import INSTANCE_RETRIEVE_LOCAL_ONLY
from .registry import as_served

__all__ = ["ReadsMixin"]


def _shown_query(query, limit=200):
    """A query as error messages quote it: its repr, cut after ``limit``
    characters (a query may be megabytes long; the answer need not be)."""
    text = repr(query)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(query)} characters)"


class ReadsMixin:
    """Instance read operations of :class:`wbemconform.mock.broker.WmiBroker`."""

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
            out = [self.stored_instance(path, store, INSTANCE_RETRIEVE_LOCAL_ONLY,
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
                out.extend(as_served(i, namespace) for i in answered)
            else:
                out.extend(i for i in self._dynamic_instances(namespace, cls) if query.matches(i))
        if query.properties is not None:
            for inst in out:
                self.filter_properties(inst, query.properties)
        return out

    # -- OpenQueryInstances: WQL, paired with PullInstances (DSP0200) ----------

    def OpenQueryInstances(self, namespace, FilterQueryLanguage, FilterQuery,
                           ReturnQueryResultClass=None, OperationTimeout=None,
                           ContinueOnError=None, MaxObjectCount=None):
        self.require_pull_operations()
        self.validate_namespace(namespace)
        instances = self.ExecQuery(namespace, FilterQueryLanguage, FilterQuery)
        result_class = None
        if ReturnQueryResultClass:
            result_class = self.get_class(namespace, parse_wql(FilterQuery).classname,
                                          local_only=False, include_qualifiers=False,
                                          include_classorigin=False)
        return self.open_query_response(namespace, instances, "PullInstances",
                                        OperationTimeout, MaxObjectCount, ContinueOnError,
                                        result_class)
