"""Load-time checks that need the whole load: a reference's class may be
declared in a file loaded later, in another namespace.

* A reference property (of a class the user's MOF declared) whose class
  exists nowhere -- not in the class's namespace, not in the namespace its
  MSFT_TargetNamespace names, not anywhere in the mock -- is most likely a
  misspelt class name (``Fabrikam_Servise ref ManagedElement``). WMI
  accepts it (it never requires a reference's class to exist: the spec's
  interop-side class refers to Win32_Process, which lives in root\\cimv2),
  so in the WMI dialect it is a load warning naming the file, line and
  class, with the closest class name the mock has; in the DMTF dialect it
  is a ``file:line`` error, as DSP0004 compilers reject it.
* A reference whose MSFT_TargetNamespace names a namespace without its class
  (while another namespace has it) is a warning: WMI resolves the
  ResultClass filter for that reference in the named namespace.
* A WBEMConform_ProfileBinding naming an element class that exists nowhere
  is a warning, as for references.
"""

from __future__ import annotations

import difflib

from ..mof import MofLoadError
from ..paths import normalize_namespace
from .providers import BINDING_CLASS, TARGET_NAMESPACE_QUALIFIER, target_namespace_of

__all__ = ["check_declarations"]


def _class_index(conn):
    """{namespace (normalised): {class name lower: class name}}."""
    out = {}
    for ns in conn.namespaces:
        out[normalize_namespace(ns)] = dict(conn.broker.schema(ns).names)
    return out


def _closest(name, index):
    every = {}
    for names in index.values():
        every.update(names)
    close = difflib.get_close_matches(name.lower(), list(every), n=1, cutoff=0.75)
    return f"; did you mean {every[close[0]]!r}?" if close else ""


def _report(compiler, file, line, message):
    if compiler.dialect == "dmtf":
        raise MofLoadError(file, line, message)
    compiler.warn(file, line, message + " (WMI accepts this; nothing can be found through it)")


def check_declarations(conn, compiler):
    index = _class_index(conn)
    for decl in compiler.declarations:
        own = normalize_namespace(decl.namespace)
        for prop in decl.cls.properties.values():
            if prop.type != "reference" or not prop.reference_class:
                continue
            wanted = prop.reference_class
            where = [ns for ns, names in index.items() if wanted.lower() in names]
            target = target_namespace_of(prop, accept_remote=True)
            target = normalize_namespace(target) if target else None
            line = decl.feature_lines.get(prop.name) or decl.line
            if not where:
                looked = [own] + ([target] if target and target != own else [])
                places = " nor ".join(looked)
                _report(compiler, decl.file, line,
                        f"{decl.cls.classname}.{prop.name} refers to class {wanted!r}, which "
                        f"exists in no namespace of the mock (not in {places}, nor anywhere "
                        f"else){_closest(wanted, index)}")
            elif target and target in index and target not in where:
                qual = prop.qualifiers[TARGET_NAMESPACE_QUALIFIER].value
                compiler.warn(decl.file, line,
                              f"{decl.cls.classname}.{prop.name}: MSFT_TargetNamespace({qual!r}) "
                              f"names {target}, which has no class {wanted!r} (it is declared "
                              f"in {', '.join(where)}); WMI resolves ResultClass for this "
                              f"reference in {target}")
    for site in compiler.watched_instances.get(BINDING_CLASS.lower(), ()):
        for element_class in site.instance.get("ElementClasses") or ():
            if not any(element_class.lower() in names for names in index.values()):
                _report(compiler, site.file, site.line,
                        f"{BINDING_CLASS} for provider {site.instance.get('Provider')!r} "
                        f"names element class {element_class!r}, which exists in no "
                        f"namespace of the mock{_closest(element_class, index)}")
