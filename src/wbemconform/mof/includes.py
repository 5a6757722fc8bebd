"""``#pragma include``: where an included file is looked for, which folders
an include may read (the include roots), and which files an error message
may quote.

An include looks in the including file's folder, then in the include paths
(the schema folders, like Windows' ``%systemroot%\\system32\\wbem``),
compiles a file into a namespace only once, refuses include chains deeper
than :data:`wbemconform.mof.limits.MAX_INCLUDE_DEPTH`, and reads only inside
the top-level file's folder tree, the schema folders and the include roots
(:func:`default_include_roots`) unless told otherwise
(``allow_include_outside``); an error never quotes a file an include reached
outside them, nor one not named ``*.mof``.
"""

from __future__ import annotations

import os
from pathlib import Path

from pywbem import MOFCompileError, MOFParseError

from . import limits
from .lines import line_of
from .source import CLASS_DECL, read_mof

__all__ = ["IncludesMixin", "default_include_roots", "INCLUDE_PATH_VARIABLE"]

#: the environment variable naming more include roots (folders, separated by
#: ``os.pathsep``): a search path as Windows' wbem folder is one
INCLUDE_PATH_VARIABLE = "WBEMCONFORM_MOF_INCLUDE_PATH"


def default_include_roots():
    """The folders ``#pragma include`` may read by default besides the
    top-level MOF file's folder tree and the include paths: the folders of
    ``$WBEMCONFORM_MOF_INCLUDE_PATH``, and the current directory (the project
    the tool runs in) unless it is the file system root or the home directory
    (or above it), which hold everything."""
    roots = [os.path.realpath(r) for r in
             os.environ.get(INCLUDE_PATH_VARIABLE, "").split(os.pathsep) if r.strip()]
    cwd = os.path.realpath(os.getcwd())
    home = os.path.realpath(os.path.expanduser("~"))
    if not (cwd == os.path.dirname(cwd) or home == cwd or
            home.startswith(cwd.rstrip(os.sep) + os.sep)):
        roots.append(cwd)
    return roots


class IncludesMixin:
    """The include side of :class:`wbemconform.mof.compiler.WmiMofCompiler`.

    Reads the compiler's ``_include_paths``, ``_include_roots``,
    ``_unit_root`` (the real folder of the top-level file being compiled),
    ``_builtin_dirs``, ``_subset_dirs``, ``schema`` and
    ``allow_include_outside``; keeps ``_compiled`` ((namespace, real path)
    pairs already compiled) and ``_include_stack`` ((file, line) of each
    include under way)."""

    def _is_builtin(self, filename, dirs=None):
        """Whether a file is the mock's own schema (or the DMTF schema given)."""
        if not filename:
            return False
        real = os.path.realpath(filename)
        return any(real == d or real.startswith(d + os.sep)
                   for d in (self._builtin_dirs if dirs is None else dirs))

    def _inside_roots(self, path):
        """Whether a file (its real path) is where an include may read."""
        real = os.path.realpath(path)
        roots = self._include_roots + ([self._unit_root] if self._unit_root else [])
        return any(real == d or real.startswith(d.rstrip(os.sep) + os.sep) for d in roots)

    def _may_quote(self, filename, top):
        """Whether an error message may quote the text of ``filename``: the
        top-level file's, or a MOF file inside the include roots -- never a
        file an include reached outside them, nor one not named ``*.mof``
        (a hostile include must not show a file's contents)."""
        if not filename or filename == top:
            return True
        return filename.lower().endswith((".mof", ".mfl")) and self._inside_roots(filename)

    def _include(self, name, p):
        """``#pragma include(name)`` (grammar callback)."""
        if "\0" in name:
            raise MOFParseError(msg=f"#pragma include({name!r}): a file name cannot hold "
                                    "a NUL character", parser_token=p)
        here = Path(self.parser.file).parent if self.parser.file else Path.cwd()
        candidates = [here / name] + [d / name for d in self._include_paths]
        found, refused = None, []
        for cand in candidates:
            if not self.allow_include_outside and not self._inside_roots(cand):
                # not looked at: whether it exists is nobody's business
                refused.append(cand)
                continue
            if cand.is_file():
                found = cand
                break
            self._note_source(cand, None)
        if found is None and refused:
            raise MOFParseError(
                msg=f"#pragma include({name!r}): resolves outside the folders an include "
                    "may read (the top-level MOF file's folder tree, "
                    + ", ".join(self._include_roots) + "); give the folder with "
                    "--wbem-mock-include-root DIR, or allow includes anywhere with "
                    "--wbem-mock-include-anywhere",
                parser_token=p)
        if found is None:
            raise MOFParseError(
                msg=f"#pragma include({name!r}): file not found in "
                    + ", ".join(str(c.parent) for c in candidates),
                parser_token=p)
        if len(self._include_stack) >= limits.MAX_INCLUDE_DEPTH:
            chain = [Path(f or "<string>").name for f, _ in self._include_stack]
            chain += [Path(self.parser.file or "<string>").name, found.name]
            shown = chain if len(chain) <= 7 else chain[:3] + ["..."] + chain[-3:]
            raise MOFParseError(
                msg=f"#pragma include({name!r}): include depth {len(chain) - 1} exceeds "
                    f"the limit of {limits.MAX_INCLUDE_DEPTH} ({' -> '.join(shown)}); "
                    "is an include chain running away?",
                parser_token=p)
        ns = self.parser.target_namespace or self.handle.default_namespace
        if self.schema is not None and self._is_builtin(found, self._subset_dirs) and \
                not self._is_builtin(self.parser.file):
            # with a DMTF schema, the mock's subset files stand for "these
            # classes": take them from the schema instead
            data = found.read_bytes()
            self._note_source(found, data)
            self._require_classes(ns, [m.group(1) for m in CLASS_DECL.finditer(
                data.decode("utf-8"))], p)
            return
        key = (ns.lower(), os.path.realpath(found))
        if key in self._compiled:
            return
        self._compiled.add(key)
        self._include_stack.append((self.parser.file, line_of(p)))
        try:
            self._compile_nested(str(found), ns)
        finally:
            self._include_stack.pop()

    def _compile_nested(self, filename, ns):
        """Compile a file inside the compilation unit under way (an include,
        a class from the DMTF schema)."""
        saved = (self.parser.target_namespace, self.parser.file, self.parser.mof)
        try:
            text = read_mof(filename, self._note_source)
            self.compile_string(text, ns, filename=filename)
        except MOFCompileError as exc:
            # errors raised outside any action of the included file (syntax,
            # lexer) carry pywbem's own line, which is in the included file
            if getattr(exc, "wbemconform_line", None) is None:
                exc.wbemconform_line = exc.lineno
                exc.wbemconform_file = filename
            raise
        finally:
            self.parser.target_namespace, self.parser.file, self.parser.mof = saved
