"""The grammar actions of the WMI dialect for pragmas and declarations.

Each ``p_*`` function replaces pywbem's action for the grammar rules in its
docstring; each wrapper (``watching_instances``, ``checking_alias``,
``instance_declaration``, ``annotating``) runs pywbem's own action with
something before or after it. :mod:`wbemconform.mof.grammar` binds them to
pywbem's parser; what they ask of the compiler (``p.parser.mofcomp``) is a
method of :class:`wbemconform.mof.compiler.WmiMofCompiler`.
"""

from __future__ import annotations

import functools

from pywbem import (CIM_ERR_ALREADY_EXISTS, CIM_ERR_INVALID_SUPERCLASS, CIMError,
                    MOFCompileError, MOFParseError, MOFRepositoryError)

from . import limits
from .classes import InstanceSite
from .lines import line_of, property_line

__all__ = ["annotating", "p_compiler_directive", "p_mp_create_class", "checking_alias",
           "instance_alias", "class_alias", "watching_instances", "instance_declaration"]


def annotating(action):
    """Wrap a grammar action so that its errors remember the statement's line."""

    @functools.wraps(action)
    def wrapped(p):
        try:
            action(p)
        except MOFCompileError as exc:
            if getattr(exc, "wbemconform_line", None) is None:
                exc.wbemconform_line = line_of(p)
                exc.wbemconform_file = getattr(p.parser, "file", None)
            raise
    return wrapped


def p_compiler_directive(p):
    """compilerDirective : '#' PRAGMA pragmaName '(' pragmaParameter ')'"""
    directive = p[3].lower()
    param = p[5]
    compiler = p.parser.mofcomp
    if directive == "namespace":
        compiler._switch_namespace(param, p)
    elif directive == "include":
        compiler._include(param, p)
    elif directive in limits.IGNORED_PRAGMAS:
        pass
    else:
        raise MOFParseError(
            msg=f"#pragma {p[3]} is not supported by the wbemconform mock "
                f"(supported: namespace, include, {', '.join(limits.IGNORED_PRAGMAS)})",
            parser_token=p)
    p[0] = None


def _dependencies(cls):
    """Classes a declaration needs: superclass, referenced, embedded (in order)."""
    out = [cls.superclass] if cls.superclass else []
    features = list(cls.properties.values())
    for meth in cls.methods.values():
        features.extend(meth.parameters.values())
    for feat in features:
        if feat.type == "reference" and feat.reference_class:
            out.append(feat.reference_class)
        qual = feat.qualifiers.get("EmbeddedInstance")
        if qual is not None and isinstance(qual.value, str):
            out.append(qual.value)
    seen, unique = set(), []
    for name in out:
        if name.lower() not in seen and name.lower() != cls.classname.lower():
            seen.add(name.lower())
            unique.append(name)
    return unique


def p_mp_create_class(p):
    """mp_createClass : classDeclaration"""
    ns = p.parser.target_namespace or p.parser.handle.default_namespace
    cls = p[1]
    compiler = p.parser.mofcomp
    handle = p.parser.handle
    compiler._require_classes(ns, _dependencies(cls), p)
    compiler._note_remote_target_namespaces(cls, p)
    written = cls.copy()  # the declaration as written; the server resolves ``cls``
    try:
        handle.CreateClass(cls, namespace=ns)
    except CIMError as exc:
        if exc.status_code != CIM_ERR_ALREADY_EXISTS:
            hint = ""
            if exc.status_code == CIM_ERR_INVALID_SUPERCLASS:
                hint = compiler._missing_class_hint(cls.superclass, ns)
            error = MOFRepositoryError(
                msg=f"cannot create class {cls.classname} in namespace "
                    f"{ns}: {exc.status_description}{hint}",
                parser_token=p)
            error.wbemconform_line = property_line(p, cls, exc.status_description)
            raise error
        if compiler._same_declaration(ns, written):
            return  # the same declaration again (an include through another path)
        try:
            handle.ModifyClass(cls, namespace=ns)
        except CIMError as exc2:
            raise MOFRepositoryError(
                msg=f"class {cls.classname} already exists in namespace {ns} "
                    f"and cannot be updated: {exc2.status_description}"
                    + compiler._redeclaration_hint(ns, cls.classname),
                parser_token=p)
    compiler._declared(ns, written, p)


def _alias_of(p, start, stop):
    for i in range(start, min(stop, len(p))):
        value = p[i]
        if isinstance(value, str) and value.startswith("$"):
            return value
    return None


def checking_alias(action, alias_at):
    """Wrap a declaration action: an alias may be defined once per compilation unit."""

    @functools.wraps(action)
    def wrapped(p):
        alias = alias_at(p)
        if alias:
            p.parser.mofcomp._define_alias(alias, p)
        action(p)
    return wrapped


def instance_alias(p):
    """The alias of an ``mp_createInstance`` (pywbem's [instance, alias])."""
    return p[1][1] if isinstance(p[1], list) and len(p[1]) == 2 else None


def class_alias(p):
    """The alias of a ``classDeclaration``, if it has one."""
    return _alias_of(p, 2, 6)


def watching_instances(action):
    """Remember where instances of the watched classes were declared."""

    @functools.wraps(action)
    def wrapped(p):
        action(p)
        inst = p[1][0] if isinstance(p[1], list) and p[1] else None
        compiler = p.parser.mofcomp
        if inst is not None and inst.classname.lower() in compiler.watch:
            ns = p.parser.target_namespace or p.parser.handle.default_namespace
            compiler.watched_instances.setdefault(inst.classname.lower(), []).append(
                InstanceSite(ns, inst, p.parser.file, line_of(p)))
    return wrapped


def instance_declaration(action):
    """Before pywbem builds an instance, make sure its class is there (from a
    DMTF schema, if one is given)."""

    @functools.wraps(action)
    def wrapped(p):
        cname = p[3] if isinstance(p[1], str) else p[4]
        handle = p.parser.handle
        ns = p.parser.target_namespace or handle.default_namespace
        p.parser.mofcomp._require_classes(ns, [cname], p)
        # pywbem's p_instanceDeclaration reads the class (copying each
        # property it uses): no copy of the whole class per instance
        lending, handle.lending = handle.lending, True
        try:
            action(p)
        finally:
            handle.lending = lending
    return wrapped
