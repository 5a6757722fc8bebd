"""Class creation with WMI's rules.

* class qualifiers with the ToSubclass flavor (``Association``) are
  inherited, a property redeclared in a subclass overrides without
  ``Override``, ordinary classes may hold references
  (``__ProviderRegistration.Provider``);
* a reference's class need not exist in the namespace, and an
  ``MSFT_TargetNamespace`` must name a local namespace;
* in the WMI dialect a qualifier needs no declaration (typed from its
  value); in the DMTF dialect it does.

pywbem_mock reaches these rules through its private class-creation hooks
(:mod:`wbemconform.mock.broker.hooks`).
"""

from __future__ import annotations

from pywbem import (CIM_ERR_INVALID_PARAMETER, CIM_ERR_INVALID_SUPERCLASS, CIM_ERR_NOT_FOUND,
                    CIMError, CIMQualifier)

from ...namespaces import NamespaceSyntaxError, parse_namespace
from ..providers import TARGET_NAMESPACE_QUALIFIER

__all__ = ["ClassRulesMixin"]


class ClassRulesMixin:
    """Class operations of :class:`wbemconform.mock.broker.WmiBroker`: each
    write is pywbem_mock's, with WMI's rules, and tells the change tracking
    what it changed."""

    def CreateClass(self, namespace, NewClass):
        try:
            return super().CreateClass(namespace, NewClass)
        finally:
            self.class_written(namespace, [NewClass.classname])

    def ModifyClass(self, namespace, ModifiedClass):
        try:
            return super().ModifyClass(namespace, ModifiedClass)
        finally:
            self.changed(namespace)

    def DeleteClass(self, namespace, ClassName):
        try:  # a class goes with its subclasses and their instances
            schema = self.schema(namespace)
            deleted = schema.subclasses(ClassName)
            emptied = deleted | set(schema.ancestry(ClassName))
        except CIMError:
            deleted = emptied = {ClassName.lower()}
        try:
            return super().DeleteClass(namespace, ClassName)
        finally:
            self.class_written(namespace, deleted, emptied)

    def check_dependencies(self, klass, class_store, namespace):
        """WMI does not require a reference's class to exist in the namespace
        (the spec's interop-side class refers to Win32_Process, which lives in
        root/cimv2). What it does require: MSFT_TargetNamespace names a local
        namespace."""
        for prop in klass.properties.values():
            qual = prop.qualifiers.get(TARGET_NAMESPACE_QUALIFIER)
            if qual is None or qual.value is None:
                continue
            try:
                target = parse_namespace(qual.value)
            except NamespaceSyntaxError as exc:
                raise CIMError(
                    CIM_ERR_INVALID_PARAMETER,
                    f"{klass.classname}.{prop.name}: MSFT_TargetNamespace({qual.value!r}) "
                    f"is not a namespace: {exc}")
            if not target.is_local and self.reject_remote_classes:
                raise CIMError(
                    CIM_ERR_INVALID_PARAMETER,
                    f"{klass.classname}.{prop.name}: MSFT_TargetNamespace({qual.value!r}) "
                    f"names namespace {target.name!r} on the remote machine "
                    f"{target.host!r}; MSFT_TargetNamespace cannot point to a "
                    "namespace on a remote computer")
        for prop in klass.properties.values():
            if prop.type == "string" and "EmbeddedInstance" in prop.qualifiers:
                ei = prop.qualifiers["EmbeddedInstance"].value
                if ei and ei.lower() != klass.classname.lower() and \
                        not class_store.object_exists(ei):
                    raise CIMError(
                        CIM_ERR_INVALID_PARAMETER,
                        f"class {ei!r} named by EmbeddedInstance on "
                        f"{klass.classname}.{prop.name} does not exist in {namespace!r}")

    def check_qualifiers(self, qualifiers, qualifier_store, new_class, scope):
        """pywbem_mock's checks of qualifiers against their declarations (as
        pywbem_mock 1.9.1 makes them, without copying each declaration); in
        the WMI dialect an undeclared qualifier is accepted with the type of
        its value."""
        for name, qual in qualifiers.items():
            if not qualifier_store.object_exists(name):
                if self.dialect == "wmi":
                    continue
                raise CIMError(
                    CIM_ERR_INVALID_PARAMETER,
                    f"Qualifier {name!r} used in new class {new_class.classname!r} has no "
                    "qualifier declaration in repository.")
            decl = qualifier_store.get(name, copy=False)
            if qual.type != decl.type:
                raise CIMError(
                    CIM_ERR_INVALID_PARAMETER,
                    f"Qualifier {name!r} used in new class {new_class.classname!r} has "
                    f"invalid type {qual.type!r} (Qualifier declaration type: {decl.type!r}).")
            if not decl.scopes[scope] and not decl.scopes["ANY"]:
                raise CIMError(
                    CIM_ERR_INVALID_PARAMETER,
                    f"Qualifier {name!r} in new class {new_class.classname!r} is used in "
                    f"invalid scope: {scope!r}. (QualifierDeclaration scopes: "
                    f"({', '.join(s for s, v in decl.scopes.items() if v)})")

    def init_qualifier(self, qualifier, qualifier_store):
        """Flavor defaults from the declaration (pywbem_mock's rule, without a
        copy); an undeclared (WMI) qualifier is not propagated, overridable."""
        qualifier.propagated = False
        if not qualifier_store.object_exists(qualifier.name):
            if self.dialect != "wmi":
                raise CIMError(CIM_ERR_INVALID_PARAMETER,
                               f"qualifier {qualifier.name!r} has no declaration")
            if qualifier.tosubclass is None:
                qualifier.tosubclass = False
            if qualifier.overridable is None:
                qualifier.overridable = True
            return
        decl = qualifier_store.get(qualifier.name, copy=False)
        if qualifier.tosubclass is None:
            qualifier.tosubclass = True if decl.tosubclass is None else decl.tosubclass
        if qualifier.overridable is None:
            qualifier.overridable = True if decl.overridable is None else decl.overridable
        if qualifier.translatable is None:
            qualifier.translatable = decl.translatable

    def resolve_class(self, new_class, namespace, qualifier_store):
        """A new class resolved against its superclass, as WMI resolves it:
        inherited ToSubclass qualifiers, implicit overrides, checked
        qualifiers; the rest as pywbem_mock resolves it."""
        superclass = None
        if new_class.superclass:
            try:
                superclass = self.get_class(namespace, new_class.superclass,
                                            local_only=False, include_qualifiers=True,
                                            include_classorigin=True)
            except CIMError as ce:
                if ce.status_code == CIM_ERR_NOT_FOUND:
                    raise CIMError(
                        CIM_ERR_INVALID_SUPERCLASS,
                        f"superclass {new_class.superclass!r} of class "
                        f"{new_class.classname!r} does not exist in namespace {namespace!r}")
                raise
        # Inherited class qualifiers with the ToSubclass flavor (Association,
        # above all): the subclass has them even when its MOF does not repeat
        # them, as DSP0004 and WMI say.
        inherited = {}
        if superclass is not None:
            for name, qual in superclass.qualifiers.items():
                if qual.tosubclass and name not in new_class.qualifiers:
                    inherited[name] = qual.copy()
        for name, qual in inherited.items():
            new_class.qualifiers[name] = qual
        is_association = bool(new_class.qualifiers.get("Association") and
                              new_class.qualifiers["Association"].value)
        if is_association and superclass is not None and \
                not superclass.qualifiers.get("Association"):
            raise CIMError(
                CIM_ERR_INVALID_PARAMETER,
                f"association {new_class.classname!r} derives from "
                f"{superclass.classname!r}, which is not an association")
        # WMI: redeclaring an inherited property is an override.
        implicit = []
        if superclass is not None:
            for name, prop in new_class.properties.items():
                if name in superclass.properties and "Override" not in prop.qualifiers:
                    prop.qualifiers["Override"] = CIMQualifier("Override", prop.name)
                    implicit.append(prop)
        if qualifier_store:
            scope = "ASSOCIATION" if is_association else (
                "INDICATION" if new_class.qualifiers.get("Indication") else "CLASS")
            own = {n: q for n, q in new_class.qualifiers.items() if n not in inherited}
            self.check_qualifiers(own, qualifier_store, new_class, scope)
            for prop in new_class.properties.values():
                self.check_qualifiers(
                    prop.qualifiers, qualifier_store, new_class,
                    "reference" if prop.type == "reference" else "PROPERTY")
            for meth in new_class.methods.values():
                self.check_qualifiers(meth.qualifiers, qualifier_store, new_class, "METHOD")
                for parm in meth.parameters.values():
                    self.check_qualifiers(parm.qualifiers, qualifier_store,
                                          new_class, "PARAMETER")
        own_quals = {n: q for n, q in new_class.qualifiers.items() if n not in inherited}
        self.resolve_qualifiers(own_quals, {}, new_class, superclass,
                                new_class.classname, "class", qualifier_store,
                                propagate=False)
        for name, qual in inherited.items():
            qual.propagated = True
        classrepo = self.cimrepository.get_class_store(namespace)
        self.resolve_objects(new_class.properties,
                             superclass.properties if superclass else None,
                             new_class, superclass, classrepo, qualifier_store, "Property")
        self.resolve_objects(new_class.methods,
                             superclass.methods if superclass else None,
                             new_class, superclass, classrepo, qualifier_store, "Method")
        for prop in implicit:
            del prop.qualifiers["Override"]
        return new_class
