"""WMI's broker behaviour on top of pywbem_mock's MainProvider.

pywbem_mock serves static instances from its repository. :class:`WmiBroker`
adds what WMI does and pywbem_mock does not, one module per concern:

* class creation with WMI's rules (:mod:`.classes`): class qualifiers
  with the ToSubclass flavor (``Association``) are inherited, a property
  redeclared in a subclass overrides without ``Override``, ordinary classes
  may hold references (``__ProviderRegistration.Provider``), a reference's
  class need not exist in the namespace, and an ``MSFT_TargetNamespace`` must
  name a local namespace;
* dynamic classes (``[Dynamic, Provider("Name")]``) served by the provider
  registered under that Name *in the namespace of the request*, with its
  ``__InstanceProviderRegistration`` flags enforced (:mod:`.registry`);
* every read operation -- enumeration, GetInstance, ExecQuery (WQL),
  associator and reference operations and, through MainProvider, the pull
  operations -- sees dynamic instances (:mod:`.reads`, :mod:`.associations`);
* associator and reference filters resolve the class of the far end in the
  namespace its reference's ``MSFT_TargetNamespace`` names (else in the
  namespace of the request), so ``ResultClass`` works across namespaces
  exactly when the qualifier is there;
* association lookups go through indexes (static association instances are
  indexed per namespace, providers index their own), not a scan of the
  whole repository per call;
* what was derived from a namespace is dropped when it changes
  (:mod:`.changes`);
* deliberate CIMOM defects for negative controls (:data:`QUIRKS`,
  :mod:`.quirks`).

The private names of pywbem_mock's MainProvider the broker relies on are
all in :mod:`.hooks`.
"""

from __future__ import annotations

from collections import defaultdict

from ..providers import ProviderServices
from .associations import AssociationsMixin
from .changes import ChangesMixin
from .classes import ClassRulesMixin
from .hooks import MainProviderAdapter
from .quirks import QUIRKS, check_quirks
from .reads import ReadsMixin
from .registry import ProvidersMixin, Registration

__all__ = ["WmiBroker", "Registration", "QUIRKS"]


class WmiBroker(ChangesMixin, ClassRulesMixin, ProvidersMixin, ReadsMixin, AssociationsMixin,
                MainProviderAdapter):
    """MainProvider with WMI's broker behaviour (see the package docstring).

    Every operation validates its request first -- the namespace, the class,
    the source object, the query, and for a dynamic class the provider's
    registration -- and then routes it: static classes to pywbem_mock's
    repository, dynamic classes to the provider registered for them in the
    namespace of the request.
    """

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
        #: Seeded CIMOM defects, for negative controls only (see QUIRKS).
        self.quirks = check_quirks(quirks)
        #: "wmi": a qualifier needs no declaration (WMI types it from its
        #: value); "dmtf": every qualifier must be declared (DSP0004).
        self.dialect = dialect
