"""pywbem_mock's FakedWBEMConnection, its private names in one place.

PRIVATE USE of pywbem_mock 1.9.1 (tests/test_private_apis.py pins every
name here and fails loudly if pywbem_mock renames one):

* FakedWBEMConnection keeps its server side in private attributes --
  ``_cimrepository``, ``_provider_registry``, ``_providerdispatcher``,
  ``_mainprovider`` -- and serves every operation through them; the mock
  replaces them (a copied repository, the mended dispatcher, the WMI
  broker) and reads them back (to snapshot a load);
* it serves each operation with a private ``_imeth_<Operation>`` method
  (called by ``_mock_imethodcall``); the mock routes the writes of a
  dynamic class to its provider, and ExecQuery to the broker, through
  these, answering with ``_make_tuple``.

Nothing else in the mock names a private member of FakedWBEMConnection.
"""

from __future__ import annotations

from pywbem_mock import FakedWBEMConnection

__all__ = ["FakedConnectionAdapter"]


class FakedConnectionAdapter(FakedWBEMConnection):
    """FakedWBEMConnection whose server side can be replaced and whose
    instance writes and ExecQuery go to overridable public methods
    (``create_instance``, ``modify_instance``, ``delete_instance``,
    ``exec_query``; each is given pywbem_mock's own as ``default``)."""

    # -- the server side ------------------------------------------------------

    def server_side(self):
        """(repository, provider registry) as pywbem_mock keeps them."""
        return self._cimrepository, self._provider_registry

    def install_server_side(self, repository, registry, make_dispatcher, make_main_provider):
        """Serve from ``repository`` and ``registry``, through the dispatcher
        ``make_dispatcher(repository, registry)`` and the main provider
        ``make_main_provider(dispatcher)``."""
        self._cimrepository = repository
        self._provider_registry = registry
        self._providerdispatcher = make_dispatcher(repository, registry)
        self._mainprovider = make_main_provider(self._providerdispatcher)

    @property
    def provider_dispatcher(self):
        return self._providerdispatcher

    @property
    def main_provider(self):
        return self._mainprovider

    @staticmethod
    def operation_result(value):
        """An ``_imeth_*`` result as pywbem_mock's ``_make_tuple`` builds it."""
        return FakedWBEMConnection._make_tuple(value)

    # -- the operations ---------------------------------------------------------

    def _imeth_CreateInstance(self, namespace, **params):
        return self.create_instance(namespace, params, super()._imeth_CreateInstance)

    def _imeth_ModifyInstance(self, namespace, **params):
        return self.modify_instance(namespace, params, super()._imeth_ModifyInstance)

    def _imeth_DeleteInstance(self, namespace, **params):
        return self.delete_instance(namespace, params, super()._imeth_DeleteInstance)

    def _imeth_ExecQuery(self, namespace, **params):
        return self.exec_query(namespace, params)

    def create_instance(self, namespace, params, default):
        return default(namespace, **params)

    def modify_instance(self, namespace, params, default):
        return default(namespace, **params)

    def delete_instance(self, namespace, params, default):
        return default(namespace, **params)

    def exec_query(self, namespace, params):
        return super()._imeth_ExecQuery(namespace, **params)
