"""pywbem_mock's provider dispatcher, mended and made cheaper.

:meth:`Dispatcher.InvokeMethod` lets a method's target instance be one a
provider serves (pywbem_mock looks in its repository only).

PRIVATE USE of pywbem_mock 1.9.1: :meth:`Dispatcher.CreateInstance` calls
the dispatcher's ``_validate_property`` (tests/test_mock_cache.py and
tests/test_private_apis.py fail loudly if it changes); the default writer
overrides InstanceWriteProvider's ``modify_multi_namespace_instance``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from copy import deepcopy

from pywbem import (CIM_ERR_INVALID_CLASS, CIM_ERR_METHOD_NOT_FOUND, CIM_ERR_NOT_FOUND, CIMError,
                    CIMInstanceName, NocaseDict, ToleratedSchemaIssueWarning)
from pywbem_mock import InstanceWriteProvider, ProviderDispatcher

from .methods import CimomMethodProvider

__all__ = ["Dispatcher", "MultiNamespaceWriter"]


class MultiNamespaceWriter(InstanceWriteProvider):
    """pywbem_mock's default instance writer, with its multi-namespace
    ModifyInstance mended.

    pywbem_mock 1.9.1 stores one instance object in every namespace an
    association instance spans, then moves that object's path to the next
    namespace: every copy ends with the path of the last one, e.g. the
    root/interop copy of a cross-namespace ElementConformsToProfile holding
    a root/cimv2 path. Here each namespace gets its own copy, with its own
    path. (tests/test_mock_multins.py holds the reproduction.)"""

    def modify_multi_namespace_instance(self, modified_instance, assoc_namespaces):
        spaces = list(assoc_namespaces) + [modified_instance.path.namespace]
        for ns in spaces:
            self.get_required_class(modified_instance, ns)
        paths = {}
        for ns in spaces:
            path = modified_instance.path.copy()
            path.namespace = ns
            if not self.cimrepository.get_instance_store(ns).object_exists(path):
                raise CIMError(CIM_ERR_NOT_FOUND,
                               f"modified instance {path} does not exist in namespace {ns}")
            paths[ns] = path
        for ns, path in paths.items():
            inst = modified_instance.copy()
            inst.path = path
            self.cimrepository.get_instance_store(ns).update(path, inst)


class Dispatcher(ProviderDispatcher):
    """pywbem_mock's provider dispatcher with the mended default writer, the
    mock's default method provider (:class:`~wbemconform.mock.methods.CimomMethodProvider`:
    CIM_ERR_NOT_SUPPORTED for a declared method without a provider, and
    GetCentralInstances), and a CreateInstance that does not copy the
    creation class.

    ``broker`` is the main provider serving the links GetCentralInstances
    returns, set by the connection once it is made (after the dispatcher).

    pywbem_mock 1.9.1's CreateInstance deep-copies the instance's class out
    of the repository to validate the instance's properties against it --
    only reads -- which for a CIM_SoftwareIdentity subclass is 2 ms, 70% of
    loading a MOF file of 10,000 instances. Here the same checks read the
    stored class in place. (PRIVATE USE of pywbem_mock 1.9.1: the
    dispatcher's ``_validate_property``; tests/test_mock_cache.py fails
    loudly if it changes.)"""

    #: the WMI broker (set by WmiMockConnection after making it)
    broker = None

    @property
    def default_method_provider(self):
        provider = getattr(self, "_wbemconform_methods", None)
        if provider is None:
            provider = self._wbemconform_methods = CimomMethodProvider(
                self.cimrepository, lambda: self.broker)
        return provider

    @property
    def default_instance_write_provider(self):
        writer = getattr(self, "_wbemconform_writer", None)
        if writer is None:
            writer = self._wbemconform_writer = MultiNamespaceWriter(self.cimrepository)
        return writer

    def InvokeMethod(self, methodname, localobject, params):  # noqa: N802 (pywbem_mock's name)
        """pywbem_mock's, but a target instance a provider serves is an
        instance too: pywbem_mock 1.9.1 looks for it in its static store only
        and answers CIM_ERR_NOT_FOUND. Such a target -- a registered profile
        a provider serves, asked for GetCentralInstances -- goes to the method
        provider once the broker has it and its class declares the method;
        every other call is pywbem_mock's, with its own checks."""
        broker = self.broker
        if isinstance(localobject, CIMInstanceName) and broker is not None:
            namespace = localobject.namespace
            try:
                self.validate_namespace(namespace)
                stored = self.cimrepository.get_instance_store(namespace).object_exists(
                    localobject)
                klass = self.cimrepository.get_class_store(namespace).get(
                    localobject.classname, copy=False)
            except (CIMError, KeyError):
                stored, klass = True, None  # pywbem_mock says what is wrong
            if not stored and klass is not None and \
                    broker.instance_or_none(localobject) is not None:
                if methodname not in klass.methods:
                    raise CIMError(CIM_ERR_METHOD_NOT_FOUND,
                                   f"method {methodname} is not exposed by class "
                                   f"{klass.classname} in namespace {namespace}")
                provider = self.provider_registry.get_registered_provider(
                    namespace, "method", localobject.classname)
                ret, outs = (provider or self.default_method_provider).InvokeMethod(
                    methodname, localobject, params)
                # the output parameters as pywbem_mock hands them on: name -> value
                pairs = outs.items() if isinstance(outs, Mapping) else \
                    ((p.name, p) for p in outs)
                return ret, NocaseDict((name, getattr(value, "value", value))
                                       for name, value in pairs)
        return super().InvokeMethod(methodname, localobject, params)

    def CreateInstance(self, namespace, NewInstance):
        self.validate_namespace(namespace)
        class_store = self.cimrepository.get_class_store(namespace)
        if not class_store.object_exists(NewInstance.classname):
            raise CIMError(CIM_ERR_INVALID_CLASS,
                           f"creation class {NewInstance.classname!r} of the new instance "
                           f"does not exist in namespace {namespace!r}")
        creation_class = class_store.get(NewInstance.classname, copy=False)
        if creation_class.qualifiers.get("Abstract", False):
            # a warning a cached load would not repeat: this load is not cached
            self.warned = True
            warnings.warn(f"Tolerating instance creation of abstract class "
                          f"{NewInstance.classname} in namespace {namespace}, which DMTF "
                          "DSP0004 forbids", ToleratedSchemaIssueWarning, 1)
        for name in NewInstance.properties:
            # PRIVATE: pywbem_mock's own property checks (type, array-ness,
            # the class declares it), which it would run on a copy of the class
            self._validate_property(name, NewInstance, creation_class, namespace, class_store)
        # the provider may change what it is given: a copy, with the property
        # names spelt as the class spells them. A registered provider gets a
        # deep copy (pywbem_mock's promise); the default writer stores a deep
        # copy of what it gets, so a shallow one (renamed properties copied)
        # keeps the caller's instance apart at half the cost.
        provider = self.provider_registry.get_registered_provider(
            namespace, "instance-write", NewInstance.classname)
        new_instance = deepcopy(NewInstance) if provider else NewInstance.copy()
        for name, prop in new_instance.properties.items():
            declared = creation_class.properties[name].name
            if prop.name != declared:
                if not provider:
                    prop = new_instance.properties[name] = prop.copy()
                prop.name = declared
        return (provider or self.default_instance_write_provider).CreateInstance(
            namespace, new_instance)
