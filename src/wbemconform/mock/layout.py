"""Where the mock's own MOF is, and the namespaces it sets up."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

__all__ = ["profiles_dir", "default_profile_files", "INTEROP_NAMESPACE", "CIMV2_NAMESPACE",
           "INTEROP_SCHEMA_CLASSES"]

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
