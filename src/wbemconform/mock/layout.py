"""Where the mock's own MOF is, and the namespaces it sets up."""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

from pywbem import WBEMServer

from ..mof.limits import MAX_INCLUDE_DEPTH, MAX_MOF_BYTES
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


#: ``#pragma namespace("...")`` and ``#pragma include("...")``, their strings
#: as MOF spells them (escapes undone below)
_PRAGMA = re.compile(rb'#\s*pragma\s+(namespace|include)\s*\(\s*"((?:[^"\\\n]|\\.)*)"\s*\)',
                     re.IGNORECASE)
#: files the search for the interop name reads at most (includes followed)
_MAX_SCANNED = 2000


def interop_namespace_of(files, include_roots=(), include_anywhere=False):
    """The interop namespace the mock serves for a load of ``files``: the
    first namespace of pywbem's interop names (``WBEMServer.INTEROP_NAMESPACES``:
    ``interop``, ``root/interop``, ``root/PG_Interop``) that a ``#pragma
    namespace`` names, in the order the load reads the MOF (a file's own
    includes where they stand), else :data:`INTEROP_NAMESPACE`.

    pywbem_mock holds one interop namespace, made when the connection is
    (its CIM_Namespace provider and CIM_ObjectManager live there), so it is
    chosen before the MOF is compiled: a MOF that writes
    ``#pragma namespace("interop")`` (DSP1033 1.1's preferred name), itself
    or in a file it includes, gets an interop namespace named ``interop``.
    An include is followed where it resolves beside its including file and
    the load may read it (inside the top-level file's folder tree or
    ``include_roots``, anywhere with ``include_anywhere``); one that
    resolves only in the schema folders is the schema's, which names no
    interop namespace. A second, different interop name in one load fails
    to load, naming the file (pywbem_mock refuses a second interop
    namespace)."""
    names = {n.lower(): n for n in WBEMServer.INTEROP_NAMESPACES}
    scanned: set = set()

    def allowed(path, top):
        real = os.path.realpath(path)
        return include_anywhere or any(
            real == d or real.startswith(d.rstrip(os.sep) + os.sep)
            for d in (*map(os.path.realpath, include_roots), os.path.dirname(top)))

    def scan(path, top, depth):
        real = os.path.realpath(path)
        if real in scanned or len(scanned) >= _MAX_SCANNED or depth > MAX_INCLUDE_DEPTH:
            return None
        scanned.add(real)
        try:
            with open(real, "rb") as handle:
                data = handle.read(MAX_MOF_BYTES)
        except OSError:
            return None  # the load itself reports the file
        for match in _PRAGMA.finditer(data):
            text = re.sub(rb"\\(.)", rb"\1", match.group(2)).decode("utf-8", "replace")
            if match.group(1).lower() == b"include":
                included = Path(real).parent / text
                if "\0" not in text and allowed(included, top) and included.is_file():
                    found = scan(included, top, depth + 1)
                    if found:
                        return found
                continue
            try:
                target = parse_namespace(text)
            except NamespaceSyntaxError:
                continue  # the load itself reports it
            name = target.name.strip("/")
            if target.is_local and name.lower() in names:
                return name
        return None
    for path in files:
        found = scan(path, os.path.realpath(path), 0)
        if found:
            return found
    return INTEROP_NAMESPACE
