"""Dynamic classes and the providers that serve them.

A class qualified ``[Dynamic, Provider("Name")]`` is served by the provider
registered under that Name *in the namespace of the request*: a
``__Win32Provider`` instance with that Name, and an
``__InstanceProviderRegistration`` whose flags (SupportsGet, SupportsPut,
SupportsDelete, SupportsEnumeration, QuerySupportLevels) say which
operations it serves. One provider object serves every namespace, and is
initialised once per namespace (:class:`wbemconform.mock.providers.InstanceProvider`
documents what it is called with). What a provider returns is copied
before it reaches the client, its path placed in the namespace of the
request unless it names one.

The services providers may ask of the broker
(:class:`wbemconform.mock.providers.ProviderServices`) are here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from pywbem import (CIM_ERR_FAILED, CIM_ERR_INVALID_CLASS, CIM_ERR_INVALID_NAMESPACE,
                    CIM_ERR_NOT_FOUND, CIM_ERR_NOT_SUPPORTED, CIMError, CIMInstanceName)

from ...paths import copy_instance, normalize_namespace, path_key, with_namespace
from ..providers import ConformsToProfileProvider
from .schema import ECTP_CLASS, PROVIDER_CLASS, REGISTRATION_CLASS

__all__ = ["Registration", "ProvidersMixin"]


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


def _pathless(inst):
    return CIMError(CIM_ERR_FAILED, f"the provider returned an instance of "
                                    f"{inst.classname} without a path")


def as_served(inst, namespace):
    """A copy of a provider's instance for the client, its path in
    ``namespace`` unless it names one, without a host (one path copy)."""
    if inst.path is None:
        raise _pathless(inst)
    return copy_instance(inst, with_namespace(inst.path, namespace))


class ProvidersMixin:
    """Providers of :class:`wbemconform.mock.broker.WmiBroker`.

    Reads ``_factories`` ({provider name lower: factory}); keeps
    ``_provider_objects`` (one object per provider name),
    ``_initialized`` ((name, namespace) pairs initialised) and
    ``_registrations`` (namespace -> {name lower: Registration}), all made
    by ``WmiBroker.__init__``."""

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

    @property
    def providers_made(self):
        """Whether any Python provider object was created (a load that made
        one cannot be cached: providers are code)."""
        return bool(self._provider_objects)

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
        return [as_served(inst, namespace)
                for inst in self._enumerated(namespace, classname)]

    def _dynamic_paths(self, namespace, classname):
        """The paths of a provider's instances, as EnumerateInstanceNames
        serves them (copies of the paths alone, not of the instances)."""
        out = []
        for inst in self._enumerated(namespace, classname):
            if inst.path is None:
                raise _pathless(inst)
            out.append(with_namespace(inst.path, namespace))
        return out

    def _dynamic_get(self, path):
        provider, reg = self.provider_for(path.namespace, path.classname)
        if not reg.supports_get:
            self._refuse(reg, "GetInstance", "SupportsGet")
        inst = provider.get_instance(path.namespace, path)
        if inst is None:
            raise CIMError(CIM_ERR_NOT_FOUND,
                           f"no instance {path} (provider {reg.name!r} has none)")
        return as_served(inst, path.namespace)

    def dynamic_write(self, namespace, kind, obj):
        """CreateInstance/ModifyInstance ('put') or DeleteInstance ('delete'),
        after the registration allows it."""
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

    # -- services for providers (ProviderServices) ------------------------------

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
