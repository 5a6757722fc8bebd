"""Instance providers for the mock's dynamic classes.

A provider is what WMI would load for a class qualified
``[Dynamic, Provider("Name")]``: the broker finds the ``__Win32Provider``
registered under that Name in the namespace of the request, checks its
``__InstanceProviderRegistration``, and calls one provider object -- the same
object for every namespace, initialised once per namespace, as the spec's
``IWbemProviderInit`` step asks. Methods always receive the namespace of the
request; a provider keeps no namespace of its own.

:class:`ConformsToProfileProvider` is the generic, MOF-driven association
provider: it serves any ``CIM_ElementConformsToProfile`` subclass bound to
it. Subclass :class:`InstanceProvider` (or the generic one) for custom or
deliberately defective providers, and pass it to
``wbemconform.mock.connect(providers={"Name": factory})``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pywbem import CIM_ERR_NOT_SUPPORTED, CIMError, CIMInstance, CIMInstanceName

from ..namespaces import target_namespace_qualifier
from ..paths import normalize_namespace, path_key, with_namespace

__all__ = ["InstanceProvider", "ConformsToProfileProvider", "ProviderServices",
           "Binding", "BINDING_CLASS", "target_namespace_of"]

TARGET_NAMESPACE_QUALIFIER = "MSFT_TargetNamespace"


def target_namespace_of(prop, accept_remote=False):
    """The local namespace a property's MSFT_TargetNamespace names, or None.

    With ``accept_remote`` a remote form counts for its namespace part (the
    lenient mode the suites use to go on observing a target after reporting
    the remote namespace)."""
    found = target_namespace_qualifier(prop)
    if found is None:
        return None
    target = found[1]
    return target.name if (target.is_local or accept_remote) else None


class ProviderServices:
    """What a provider may ask the broker (WMI's IWbemServices, in small)."""

    def __init__(self, broker):
        self._broker = broker

    def get_class(self, namespace, classname):
        """The resolved class (with qualifiers and defaults), or None."""
        return self._broker.class_or_none(namespace, classname)

    def namespaces_declaring(self, classname):
        """The namespaces in which a class of that name is declared."""
        return self._broker.namespaces_declaring(classname)

    def enumerate_instance_names(self, namespace, classname):
        """Instance paths (with namespace) of a class and its subclasses."""
        return self._broker.instance_names_or_empty(namespace, classname)

    def get_instance(self, path):
        return self._broker.instance_or_none(path)

    def instances(self, namespace, classname):
        """Instances (with path and namespace) of a class and its subclasses."""
        return self._broker.instances_or_empty(namespace, classname)

    def generation(self, namespace=None):
        """A number that changes whenever anything in the namespace (with
        None: in any namespace) changes."""
        return self._broker.generation(namespace)

    def instance_generation(self, namespace, classname):
        """A stamp that changes whenever the instances of a class (with its
        subclasses) may have changed in the namespace."""
        return self._broker.instance_generation(namespace, classname)

    def class_generation(self, namespace, classname):
        """A stamp that changes whenever the declaration of a class (with what
        it inherits) may have changed in the namespace."""
        return self._broker.class_generation(namespace, classname)

    def target_namespace(self, prop):
        """The namespace a reference's MSFT_TargetNamespace names, as the broker
        reads it, or None."""
        return target_namespace_of(prop, self._broker.accept_remote_target_namespaces)


class InstanceProvider:
    """Base class: the operations WMI calls on an instance provider."""

    def initialize(self, namespace, services):
        """Called once for each namespace the provider is used in."""
        self.services = services

    def enumerate_instances(self, namespace, classname):
        """CreateInstanceEnumAsync: all instances of exactly ``classname``."""
        raise CIMError(CIM_ERR_NOT_SUPPORTED, f"{type(self).__name__} does not enumerate")

    def get_instance(self, namespace, path):
        """GetObjectAsync: the instance, or None when there is none."""
        want = path_key(path, namespace)
        for inst in self.enumerate_instances(namespace, path.classname):
            if path_key(inst.path, namespace) == want:
                return inst
        return None

    def exec_query(self, namespace, query):
        """ExecQueryAsync (optional): return None to let the broker evaluate the
        query over enumeration, as WMI does for providers without query support."""
        return None

    def references_to(self, namespace, classname, target):
        """Association instances of ``classname`` that refer to ``target``.

        The default filters the enumeration; providers override it with an index.
        """
        want = path_key(target, namespace)
        out = []
        for inst in self.enumerate_instances(namespace, classname):
            for value in inst.properties.values():
                if isinstance(value.value, CIMInstanceName) and path_key(value.value, namespace) == want:
                    out.append(inst)
                    break
        return out

    def put_instance(self, namespace, instance):
        raise CIMError(CIM_ERR_NOT_SUPPORTED,
                       f"{type(self).__name__} does not create or modify instances")

    def delete_instance(self, namespace, path):
        raise CIMError(CIM_ERR_NOT_SUPPORTED, f"{type(self).__name__} does not delete instances")


@dataclass(frozen=True)
class Binding:
    """What an association class declaration binds: profile -> elements."""

    classname: str
    profile: CIMInstanceName | None  # with namespace
    element_class: str
    element_namespace: str


#: The mock's class for binding one provider to several profiles
#: (profiles/schema/wbemconform.mof); not a WMI or DMTF class.
BINDING_CLASS = "WBEMConform_ProfileBinding"


class ConformsToProfileProvider(InstanceProvider):
    """The generic association provider, driven by the class declarations.

    For an association class ``C`` asked for in namespace ``ns``, the
    (profile, element classes) pairs it serves are:

    * with ``WBEMConform_ProfileBinding`` instances naming this provider
      (``Provider = "<__Win32Provider.Name>"``): one pair per instance --
      its ``Profile`` reference and its ``ElementClasses`` -- so that one
      class (and one provider) serves many profiles, as libvirt-cim's
      KVM_ElementConformsToProfile or Windows' MSFTSM_ElementConformsToProfile
      do;
    * otherwise: the default value of ``C.ConformantStandard`` (the ``$PP``
      alias of the spec's MOF) and the class ``C.ManagedElement`` refers to.

    The managed elements are the instances of the element classes in the
    namespace where they live: the binding's ``ElementNamespace``; failing
    that, the one ``C.ManagedElement``'s MSFT_TargetNamespace names; failing
    that, the namespace whose declaration of ``C`` marks its
    ConformantStandard as pointing elsewhere; failing that, the namespace
    other than the profile's that declares ``C``; failing that, ``ns``. The
    answer is the same whichever namespace asks -- the provider does not
    depend on the namespace it serves.

    Enumeration is linear in the elements; GetInstance and the association
    lookups are dictionary lookups in a table built once per change of the
    namespaces involved.
    """

    PROFILE_ROLE = "ConformantStandard"
    ELEMENT_ROLE = "ManagedElement"

    def __init__(self, name="ConformsToProfile"):
        self.name = name
        self.namespaces = []
        self.services = None
        self._tables = {}
        self._lookups = {}

    def initialize(self, namespace, services):
        self.services = services
        self.namespaces.append(namespace)

    # -- binding -------------------------------------------------------------

    def _declaration(self, namespace, classname):
        decl = self.services.get_class(namespace, classname)
        if decl is None:
            raise CIMError(CIM_ERR_NOT_SUPPORTED, f"class {classname} is not declared in {namespace}")
        cs = decl.properties.get(self.PROFILE_ROLE)
        me = decl.properties.get(self.ELEMENT_ROLE)
        if cs is None or me is None or cs.type != "reference" or me.type != "reference":
            raise CIMError(
                CIM_ERR_NOT_SUPPORTED,
                f"{classname} in {namespace} has no {self.PROFILE_ROLE}/{self.ELEMENT_ROLE} "
                "references: it is not an ElementConformsToProfile class")
        return decl

    def binding(self, namespace, classname) -> Binding:
        """The class declaration's own binding (its ConformantStandard default)."""
        decl = self._declaration(namespace, classname)
        cs = decl.properties[self.PROFILE_ROLE]
        profile = None
        if isinstance(cs.value, CIMInstanceName):
            profile = with_namespace(cs.value, self.services.target_namespace(cs) or namespace)
        return Binding(classname=decl.classname, profile=profile,
                       element_class=decl.properties[self.ELEMENT_ROLE].reference_class,
                       element_namespace=self._element_namespace(namespace, decl, profile))

    def bindings(self, namespace, classname):
        """Every (profile, element class) pair the class serves, as Bindings."""
        configured = self.configured_bindings()
        if not configured:
            return [self.binding(namespace, classname)]
        decl = self._declaration(namespace, classname)
        out = []
        for profile, element_classes, element_ns in configured:
            where = element_ns or self._element_namespace(namespace, decl, profile)
            for element_class in element_classes:
                out.append(Binding(classname=decl.classname, profile=profile,
                                   element_class=element_class, element_namespace=where))
        return out

    def configured_bindings(self):
        """[(profile path, element classes, element namespace or None)] from the
        WBEMConform_ProfileBinding instances that name this provider."""
        out, seen = [], set()
        for ns in self.services.namespaces_declaring(BINDING_CLASS):
            for inst in self.services.instances(ns, BINDING_CLASS):
                if str(inst.get("Provider") or "").lower() != self.name.lower():
                    continue
                profile = inst.get("Profile")
                if not isinstance(profile, CIMInstanceName):
                    continue
                profile = with_namespace(profile, ns)
                key = path_key(profile)
                if key in seen:
                    continue
                seen.add(key)
                element_ns = inst.get("ElementNamespace")
                out.append((profile, tuple(inst.get("ElementClasses") or ()),
                            normalize_namespace(element_ns) if element_ns else None))
        return out

    def _element_namespace(self, namespace, decl, profile):
        explicit = self.services.target_namespace(decl.properties[self.ELEMENT_ROLE])
        if explicit:
            return explicit
        declaring = self.services.namespaces_declaring(decl.classname)
        for ns in declaring:
            other = self.services.get_class(ns, decl.classname)
            if self.services.target_namespace(other.properties.get(self.PROFILE_ROLE)):
                return ns
        profile_ns = normalize_namespace(profile.namespace) if profile else None
        for ns in declaring:
            if normalize_namespace(ns) != profile_ns:
                return ns
        return namespace

    # -- the table -------------------------------------------------------------

    def _stamp(self, namespace, classname, bindings):
        """What the table was built from: the declarations of the class (in
        every namespace declaring it), the binding instances, the element
        classes' instances. A profile instance is named, never read: writing
        one, or any other class, leaves the table alone."""
        services = self.services
        declaring = tuple(normalize_namespace(ns)
                          for ns in services.namespaces_declaring(classname))
        binding_spaces = tuple(normalize_namespace(ns)
                               for ns in services.namespaces_declaring(BINDING_CLASS))
        spaces = set(declaring) | {normalize_namespace(namespace)}
        return (declaring, binding_spaces,
                tuple(services.class_generation(ns, classname) for ns in sorted(spaces)),
                tuple(services.instance_generation(ns, BINDING_CLASS) for ns in binding_spaces),
                tuple(services.instance_generation(b.element_namespace, b.element_class)
                      for b in bindings))

    def table(self, namespace, classname):
        """(binding, rows) for a class in a namespace.

        With one binding (the usual case), ``binding`` is that Binding and
        ``rows`` maps each element's key to its association instance. With
        several, ``binding`` is the list of Bindings and ``rows`` is keyed by
        (profile key, element key)."""
        cache_key = (normalize_namespace(namespace), classname.lower())
        cached = self._tables.get(cache_key)
        writes = self.services.generation()
        if cached is not None:
            stamp, bindings, binding, rows = cached
            if stamp[0] == writes:  # nothing was written since
                return binding, rows
            if stamp[1] == self._stamp(namespace, classname, bindings):
                self._tables[cache_key] = ((writes, stamp[1]), bindings, binding, rows)
                return binding, rows
        bindings = self.bindings(namespace, classname)
        single = len(bindings) == 1
        rows = {}
        for b in bindings:
            if b.profile is None:
                continue
            for element in self.elements(b):
                inst = self.association(namespace, b, element)
                key = path_key(element) if single else (path_key(b.profile), path_key(element))
                rows.setdefault(key, inst)
        binding = bindings[0] if single else bindings
        # the stamp is taken after the build: building may itself provision state
        self._tables[cache_key] = ((self.services.generation(),
                                   self._stamp(namespace, classname, bindings)),
                                  bindings, binding, rows)
        return binding, rows

    def elements(self, binding):
        return self.services.enumerate_instance_names(binding.element_namespace,
                                                      binding.element_class)

    def association(self, namespace, binding, element):
        path = CIMInstanceName(binding.classname, namespace=namespace, keybindings={
            self.PROFILE_ROLE: binding.profile, self.ELEMENT_ROLE: element})
        inst = CIMInstance(binding.classname, path=path)
        inst[self.PROFILE_ROLE] = binding.profile
        inst[self.ELEMENT_ROLE] = element
        return inst

    def _lookup(self, namespace, classname, rows):
        """(by profile key, by element key) over rows keyed by pairs."""
        cache_key = (normalize_namespace(namespace), classname.lower())
        cached = self._lookups.get(cache_key)
        if cached is not None and cached[0] is rows:
            return cached[1], cached[2]
        by_profile, by_element = {}, {}
        for (pkey, ekey), inst in rows.items():
            by_profile.setdefault(pkey, []).append(inst)
            by_element.setdefault(ekey, []).append(inst)
        self._lookups[cache_key] = (rows, by_profile, by_element)
        return by_profile, by_element

    # -- provider operations -------------------------------------------------------

    def enumerate_instances(self, namespace, classname):
        return list(self.table(namespace, classname)[1].values())

    def get_instance(self, namespace, path):
        binding, rows = self.table(namespace, path.classname)
        element = path.keybindings.get(self.ELEMENT_ROLE)
        profile = path.keybindings.get(self.PROFILE_ROLE)
        if not isinstance(element, CIMInstanceName) or not isinstance(profile, CIMInstanceName):
            return None
        if isinstance(binding, Binding):
            if binding.profile is None or path_key(profile, namespace) != path_key(binding.profile):
                return None
            return rows.get(path_key(element, namespace))
        return rows.get((path_key(profile, namespace), path_key(element, namespace)))

    def references_to(self, namespace, classname, target):
        binding, rows = self.table(namespace, classname)
        key = path_key(target, namespace)
        if isinstance(binding, Binding):
            if binding.profile is not None and key == path_key(binding.profile):
                return list(rows.values())
            inst = rows.get(key)
            return [inst] if inst is not None else []
        by_profile, by_element = self._lookup(namespace, classname, rows)
        found = {id(i): i for i in by_profile.get(key, ())}
        found.update((id(i), i) for i in by_element.get(key, ()))
        return list(found.values())
