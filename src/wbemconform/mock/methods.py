"""Extrinsic methods of the mock: what a CIMOM answers when a method has no
provider, and DSP1033 1.1's GetCentralInstances, served by the CIMOM itself.

pywbem_mock 1.9.1 validates an InvokeMethod (the namespace, the class, the
target instance, that the class declares the method, the input parameters)
and then calls the method provider registered for the class, else its
default one, which answers ``CIM_ERR_METHOD_NOT_FOUND`` -- the status of a
method the class does *not* declare. The mock's default method provider
(:class:`CimomMethodProvider`, made by the mock's dispatcher) answers as a
CIMOM with no provider for a declared method does, ``CIM_ERR_NOT_SUPPORTED``
(DSP0200), except for GetCentralInstances, which it implements.

The same code answers in process (``conn.InvokeMethod``) and served: the
CIM-XML and WS-Management apps of :mod:`wbemconform.server` hand the call to
``conn.InvokeMethod``. A read-only server refuses every extrinsic method
but :data:`READ_METHODS` before the mock is touched
(:mod:`wbemconform.server.readonly`).

GetCentralInstances (DSP1033 1.1; ``CIM_RegisteredProfile.GetCentralInstances``
in CIM schema 2.39 and later: ``uint8 GetCentralInstances([In(false), Out]
CIM_ManagedElement REF CentralInstances[])``, 0 = Completed with no error)
returns, for the registered profile it is invoked on, the ManagedElement
ends of the CIM_ElementConformsToProfile links whose ConformantStandard is
that profile -- static association instances and a provider's alike, any
subclass, in every namespace of the mock that declares the association --
each once, with its namespace. That is the provider contract: a profile's
central instances are what its CIM_ElementConformsToProfile links name, so
a provider that serves the links serves the method; nothing else is asked
of it. A component profile that names its central instances through no link
(it relies on the scoping class methodology) gets an empty list: the mock
does not know scoping paths (they are profile knowledge, not data the
server holds). A method provider registered for the class
(``conn.register_provider``) still takes precedence, as in pywbem_mock.
"""

from __future__ import annotations

from pywbem import CIM_ERR_METHOD_NOT_FOUND, CIM_ERR_NOT_SUPPORTED, CIMError, CIMInstanceName
from pywbem import CIMParameter, Uint8
from pywbem_mock import MethodProvider

__all__ = ["CimomMethodProvider", "GET_CENTRAL_INSTANCES", "READ_METHODS", "READ_METHOD_NAMES",
           "MISSING_METHOD_QUIRK"]

GET_CENTRAL_INSTANCES = "GetCentralInstances"

#: extrinsic methods known to only read (lower case): a read-only server
#: serves them. GetCentralInstances returns references and changes nothing.
READ_METHOD_NAMES = (GET_CENTRAL_INSTANCES,)
READ_METHODS = frozenset(name.lower() for name in READ_METHOD_NAMES)

#: the broker quirk that gives pywbem_mock's own answer back (negative controls)
MISSING_METHOD_QUIRK = "method-not-found"


class CimomMethodProvider(MethodProvider):
    """The mock's default method provider (see the module docstring).
    ``broker()`` gives the broker that serves the links (it is made after the
    dispatcher)."""

    def __init__(self, cimrepository, broker):
        super().__init__(cimrepository)
        self._broker = broker

    def InvokeMethod(self, methodname, localobject, params):  # noqa: N802 (pywbem_mock's name)
        broker = self._broker()
        if MISSING_METHOD_QUIRK in getattr(broker, "quirks", ()):
            raise CIMError(CIM_ERR_METHOD_NOT_FOUND,
                           f"{methodname} of {localobject.classname} (seeded defect: "
                           f"{MISSING_METHOD_QUIRK})")
        if methodname.lower() == GET_CENTRAL_INSTANCES.lower() and \
                isinstance(localobject, CIMInstanceName) and broker is not None:
            return self.get_central_instances(broker, localobject)
        raise CIMError(CIM_ERR_NOT_SUPPORTED,
                       f"no provider implements method {methodname} of class "
                       f"{localobject.classname} in namespace {localobject.namespace}")

    @staticmethod
    def get_central_instances(broker, profile):
        """(0, [CentralInstances]) of the registered profile ``profile``."""
        elements = broker.conformant_elements(profile)
        return Uint8(0), [CIMParameter("CentralInstances", "reference", value=elements,
                                       is_array=True, reference_class="CIM_ManagedElement")]
