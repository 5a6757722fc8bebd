"""What a MOF load defaults to, and how far it may go.

The modules of :mod:`wbemconform.mof` read these as ``limits.NAME`` when they
need them (never a copy taken at import), so that setting one on
:mod:`wbemconform.mof` -- which forwards it here -- takes effect.
"""

from __future__ import annotations

__all__ = ["DEFAULT_NAMESPACE", "MAX_INCLUDE_DEPTH", "MAX_MOF_BYTES", "MAX_NAMESPACES",
           "DIALECTS", "IGNORED_PRAGMAS"]

#: Where MOF without a namespace pragma goes. WMI's mofcomp would use
#: root\default; the spec's first block (the registered profile) belongs in
#: the interop namespace, so that is where we put it.
DEFAULT_NAMESPACE = "root/interop"

#: Pragmas that have no effect on a mock repository but are legal WMI MOF.
IGNORED_PRAGMAS = ("locale", "autorecover")

#: How many files deep ``#pragma include`` may nest. Real schemas nest two or
#: three deep (DMTF: cim_schema_X.mof -> one file per class); the limit keeps
#: a runaway chain a clear error instead of Python's RecursionError.
MAX_INCLUDE_DEPTH = 32

#: The largest MOF file read (the whole DMTF schema, one file per class, is
#: 4 MB in all); memory use is linear in the size, the cap bounds it.
MAX_MOF_BYTES = 64 * 1024 * 1024

#: How many namespaces the MOF loaded into one mock may create with ``#pragma
#: namespace``. Each new namespace gets WMI's system classes and qualifiers
#: (about 25 ms and 0.5 MB): without a bound a small file that names
#: thousands of namespaces costs minutes and gigabytes. Real providers
#: create a few; a Windows machine has about a hundred in all.
MAX_NAMESPACES = 256

#: ``wmi``: undeclared qualifiers are accepted and a reference to a class
#: that exists nowhere is a warning, as WMI accepts both.
#: ``dmtf``: both are errors, as DSP0004 compilers (OpenPegasus, SFCB) have it.
DIALECTS = ("wmi", "dmtf")
