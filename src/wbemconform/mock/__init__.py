"""The embedded WMI-style interop mock.

``connect()`` returns a pywbem ``WBEMConnection``-compatible object backed by
pywbem_mock, loaded with the interop schema, the WMI system classes and
either the example profiles or MOF files of your own, in the WMI dialect the
spec shows. See :mod:`wbemconform.mock.broker` for what it adds to
pywbem_mock.

The schema is the built-in subset in ``profiles/schema`` unless a DMTF CIM
schema release is given (``connect(schema=PATH)``, see
:mod:`wbemconform.mock.dmtf`): then every namespace gets the classes the
loaded MOF needs from that schema, with their dependencies, and the subset
steps aside.

A compiled load is kept in a cache (:mod:`wbemconform.mock.cache`:
``$XDG_CACHE_HOME/wbemconform/mock-cache``, ``WBEMCONFORM_CACHE`` to move
it, ``WBEMCONFORM_CACHE=off`` to turn it off), so that loading the same MOF
again -- the same files, the same files they include, the same schema, the
same options and versions -- costs a file read instead of a compilation.

The modules: :mod:`~wbemconform.mock.loading` (``connect()``, the cache's
use), :mod:`~wbemconform.mock.connection` (:class:`WmiMockConnection`),
:mod:`~wbemconform.mock.broker` (the WMI broker),
:mod:`~wbemconform.mock.providers` (dynamic instance providers),
:mod:`~wbemconform.mock.dispatcher` (pywbem_mock's provider dispatcher,
mended), :mod:`~wbemconform.mock.faked` (FakedWBEMConnection's private
names, in one place), :mod:`~wbemconform.mock.layout` (where the mock's
MOF is), :mod:`~wbemconform.mock.checks` (checks of a whole load),
:mod:`~wbemconform.mock.dmtf` (DMTF schema releases).
"""

from __future__ import annotations

from ..mof import MofLoadError, MofLoadWarning
from .broker import Registration
from .connection import WmiMockConnection
from .dmtf import DmtfSchema, SchemaError, load_schema
from .layout import (CIMV2_NAMESPACE, INTEROP_NAMESPACE, INTEROP_SCHEMA_CLASSES,
                     default_profile_files, profiles_dir)
from .loading import connect
from .providers import (BINDING_CLASS, ConformsToProfileProvider, InstanceProvider,
                        ProviderServices)

__all__ = ["connect", "WmiMockConnection", "MofLoadError", "MofLoadWarning", "SchemaError",
           "DmtfSchema", "load_schema",
           "profiles_dir", "default_profile_files", "InstanceProvider",
           "ConformsToProfileProvider", "ProviderServices", "Registration", "BINDING_CLASS",
           "INTEROP_NAMESPACE", "CIMV2_NAMESPACE", "INTEROP_SCHEMA_CLASSES"]
