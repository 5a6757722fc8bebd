"""Where the mock's own MOF is, and the namespaces it sets up."""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

from pywbem import WBEMServer

from ..mof.limits import MAX_MOF_BYTES
from ..namespaces import NamespaceSyntaxError, parse_namespace

__all__ = ["profiles_dir", "default_profile_files", "INTEROP_NAMESPACE", "CIMV2_NAMESPACE",
           "INTEROP_SCHEMA_CLASSES", "interop_namespace_of"]

INTEROP_NAMESPACE = "root/interop"
CIMV2_NAMESPACE = "root/cimv2"

#: What the mock's interop namespace holds from a DMTF schema, when one is
#: given: the profile registration classes and the object manager pywbem's
#: WBEMServer (and the CIM_Namespace provider) look for.
INTEROP_SCHEMA_CLASSES = ("CIM_RegisteredProfile", "CIM_ReferencedProfile",
                          "CIM_ElementConformsToProfile", "CIM_ObjectManager",
                          "CIM_Namespace")


def profiles_dir() -> Path:
    """The mock's MOF folder (``profiles/`` in the repository, installed as the
    data package ``wbemconform.profiles``); ``WBEMCONFORM_PROFILES`` overrides."""
    env = os.environ.get("WBEMCONFORM_PROFILES")
    candidates = [Path(env)] if env else []
    candidates.append(Path(str(resources.files("wbemconform.profiles"))))
    for cand in candidates:
        if (cand / "schema" / "interop.mof").is_file():
            return cand
    raise FileNotFoundError(
        "cannot find the mock's MOF (schema/interop.mof) in "
        + ", ".join(str(c) for c in candidates)
        + "; the wbemconform installation is incomplete (reinstall it), or "
          "WBEMCONFORM_PROFILES names the wrong folder")


def default_profile_files():
    return sorted((profiles_dir() / "examples").glob("*.mof"))


#: ``#pragma namespace("...")``, its string as MOF spells it (escapes undone below)
_NAMESPACE_PRAGMA = re.compile(rb'#\s*pragma\s+namespace\s*\(\s*"((?:[^"\\\n]|\\.)*)"\s*\)',
                               re.IGNORECASE)


def interop_namespace_of(files):
    """The interop namespace the mock serves for a load of ``files``: the
    first namespace of pywbem's interop names (``WBEMServer.INTEROP_NAMESPACES``:
    ``interop``, ``root/interop``, ``root/PG_Interop``) that a top-level
    file's ``#pragma namespace`` names, else :data:`INTEROP_NAMESPACE`.

    pywbem_mock holds one interop namespace, made when the connection is
    (its CIM_Namespace provider and CIM_ObjectManager live there), so it is
    chosen before the MOF is compiled: a MOF that writes
    ``#pragma namespace("interop")`` (DSP1033 1.1's preferred name) gets an
    interop namespace named ``interop``. A pragma in an included file is not
    looked at; a second, different interop name in one load fails to load,
    naming the file (pywbem_mock refuses a second interop namespace)."""
    names = {n.lower(): n for n in WBEMServer.INTEROP_NAMESPACES}
    for path in files:
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_MOF_BYTES)
        except OSError:
            continue  # the load itself reports the file
        for match in _NAMESPACE_PRAGMA.finditer(data):
            text = re.sub(rb"\\(.)", rb"\1", match.group(1)).decode("utf-8", "replace")
            try:
                target = parse_namespace(text)
            except NamespaceSyntaxError:
                continue  # the load itself reports it
            name = target.name.strip("/")
            if target.is_local and name.lower() in names:
                return name
    return INTEROP_NAMESPACE
