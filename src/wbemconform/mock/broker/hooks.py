"""pywbem_mock's MainProvider, its private names in one place.

PRIVATE USE of pywbem_mock 1.9.1 (tests/test_private_apis.py pins every
name here and fails loudly if pywbem_mock renames one): the WMI broker
(:class:`wbemconform.mock.broker.WmiBroker`) is a MainProvider subclass.
pywbem_mock calls three private hooks of its own while creating a class;
the broker replaces them, under these names, by its own public methods.
It also reuses five private helpers of MainProvider; they are reached
here, under names of the broker's own. Nothing else in the broker names a
private member of pywbem_mock.
"""

from __future__ import annotations

from pywbem_mock import MainProvider

__all__ = ["MainProviderAdapter", "INSTANCE_RETRIEVE_LOCAL_ONLY"]

#: MainProvider._get_instance's local_only for enumerations (pywbem_mock's own
#: enumeration passes its private INSTANCE_RETRIEVE_LOCAL_ONLY, which is False)
INSTANCE_RETRIEVE_LOCAL_ONLY = False


class MainProviderAdapter(MainProvider):
    """MainProvider with its private hooks routed to the broker's methods and
    its private helpers reachable under public names."""

    # -- hooks pywbem_mock calls ---------------------------------------------

    def _resolve_class(self, new_class, namespace, qualifier_store, verbose=None):
        # MainProvider.CreateClass/ModifyClass (and FakedWBEMConnection's
        # add_cimobjects) resolve a new class against its superclass through
        # this hook: WMI's rules differ (inherited ToSubclass qualifiers,
        # implicit overrides, the WMI dialect's undeclared qualifiers)
        return self.resolve_class(new_class, namespace, qualifier_store)

    def _validate_dependencies_exist(self, klass, class_store, namespace):
        # MainProvider.CreateClass/ModifyClass check a new class's references
        # through this hook: pywbem_mock requires a reference's class to
        # exist in the namespace, WMI does not (it requires a local
        # MSFT_TargetNamespace instead)
        return self.check_dependencies(klass, class_store, namespace)

    def _init_qualifier(self, qualifier, qualifier_store):
        # MainProvider._resolve_qualifiers sets each qualifier's flavors
        # through this hook: pywbem_mock copies the declaration per qualifier
        # and fails on an undeclared one, which the WMI dialect accepts
        return self.init_qualifier(qualifier, qualifier_store)

    # -- helpers the broker reuses ---------------------------------------------

    def resolve_qualifiers(self, new_quals, inherited_quals, new_class, super_class,
                           obj_name, obj_type, qualifier_store, propagate=False):
        """pywbem_mock's qualifier resolution (``_resolve_qualifiers``): the
        broker's class rules resolve as pywbem_mock does once WMI's
        differences are applied."""
        return self._resolve_qualifiers(new_quals, inherited_quals, new_class, super_class,
                                        obj_name, obj_type, qualifier_store,
                                        propagate=propagate)

    def resolve_objects(self, new_objects, superclass_objects, new_class, superclass,
                        classrepo, qualifier_store, type_str):
        """pywbem_mock's property and method resolution (``_resolve_objects``)."""
        return self._resolve_objects(new_objects, superclass_objects, new_class, superclass,
                                     classrepo, qualifier_store, type_str)

    def stored_instance(self, instance_name, instance_store, local_only,
                        include_class_origin, include_qualifiers, property_list):
        """A copy of a stored instance, filtered as an operation asks
        (``_get_instance``: what pywbem_mock's own enumeration uses, so that
        the broker's enumeration copies only the matches)."""
        return self._get_instance(instance_name, instance_store, local_only,
                                  include_class_origin, include_qualifiers, property_list)

    def require_pull_operations(self):
        """CIM_ERR_NOT_SUPPORTED when pull operations are disabled
        (``_validate_pull_operations_enabled``, as every Open* of
        pywbem_mock checks)."""
        self._validate_pull_operations_enabled()

    def open_query_response(self, namespace, objects, pull_type, operation_timeout,
                            max_object_count, continue_on_error, query_result_class):
        """An OpenQueryInstances answer with its enumeration context
        (``_openquery_response``: pywbem_mock's own, so that PullInstances
        and the context limits work as for its other Open* operations)."""
        return self._openquery_response(namespace, objects, pull_type, operation_timeout,
                                        max_object_count, continue_on_error,
                                        query_result_class)
