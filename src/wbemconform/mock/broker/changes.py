"""What changed in which namespace: the counters providers stamp what they
derived with, and the per-namespace summaries (:class:`Schema`,
registrations, association indexes) the broker drops when they go stale.

What was derived from a namespace is stamped with these counters, so a
provider rebuilds its table only when what it read changed: an instance
write counts for its class and the class's superclasses (whose
enumerations it changes), a class write for that class (a class's
declaration depends on its superclasses' declarations: readers take the
counters of the whole ancestry); writes that reach further (loading,
modifying a class, a provider's writes, association instances stored in
several namespaces) move a namespace's bulk counter.
"""

from __future__ import annotations

from pywbem import CIM_ERR_INVALID_NAMESPACE, CIMError

from ...paths import normalize_namespace
from .schema import Schema

__all__ = ["ChangesMixin"]


class ChangesMixin:
    """Change tracking of :class:`wbemconform.mock.broker.WmiBroker`.

    Keeps the counters (``_generations``, ``_bulk_generations``,
    ``_class_generations``, ``_instance_generations``) and ``_schemas``
    (namespace -> :class:`Schema`), made by ``WmiBroker.__init__``;
    forgets ``_registrations``, ``_static_links`` and ``_link_memo`` (kept
    by the registration and association sides) when a namespace changes."""

    def generation(self, namespace=None):
        """A number that changes with every write in the namespace (with
        None: in any namespace)."""
        if namespace is None:
            return sum(self._generations.values())
        return self._generations[normalize_namespace(namespace)]

    def instance_generation(self, namespace, classname):
        """A stamp that changes whenever the instances of the class (with its
        subclasses) may have changed in the namespace."""
        ns = normalize_namespace(namespace)
        return self._bulk_generations[ns], self._instance_generations[(ns, classname.lower())]

    def class_generation(self, namespace, classname):
        """A stamp that changes whenever the declaration of the class (with
        what it inherits) may have changed in the namespace."""
        ns = normalize_namespace(namespace)
        try:
            ancestry = self.schema(ns).ancestry(classname)
        except CIMError:
            ancestry = []
        return (self._bulk_generations[ns], tuple(ancestry),
                tuple(self._class_generations[(ns, c)] for c in ancestry))

    def changed(self, namespace=None, classes=True):
        """Forget what was derived from a namespace (all when None); an
        instance write (``classes=False``) leaves the class summary alone."""
        for ns in self._spaces(namespace):
            self._generations[ns] += 1
            self._bulk_generations[ns] += 1
            self._forget(ns, classes)

    def _spaces(self, namespace):
        return [normalize_namespace(namespace)] if namespace else \
            [normalize_namespace(ns) for ns in self.namespaces]

    def _forget(self, ns, classes):
        if classes:
            self._schemas.pop(ns, None)
        self._registrations.pop(ns, None)
        self._static_links.pop(ns, None)
        self._link_memo.clear()

    def instance_written(self, namespace, classname):
        """A static instance was created, modified or deleted: an association
        instance may be stored in several namespaces (all of them change),
        any other instance changes its class's enumerations in its own."""
        ns = normalize_namespace(namespace)
        try:
            schema = self.schema(ns)
        except CIMError:
            return self.changed(None, classes=False)
        if classname.lower() in schema.associations or not schema.has(classname):
            return self.changed(None, classes=False)
        self._generations[ns] += 1
        for cls in schema.ancestry(classname):
            self._instance_generations[(ns, cls)] += 1
        self._forget(ns, classes=False)

    def class_written(self, namespace, declared, emptied=()):
        """Classes were created or deleted: the declarations of ``declared``
        changed, and the enumerations of ``emptied`` lost instances (a
        deleted class's, its superclasses'); other classes are untouched."""
        ns = normalize_namespace(namespace)
        self._generations[ns] += 1
        for cls in declared:
            self._class_generations[(ns, cls.lower())] += 1
        for cls in emptied:
            self._instance_generations[(ns, cls.lower())] += 1
        self._forget(ns, classes=True)

    def schema(self, namespace) -> Schema:
        """The :class:`Schema` of a namespace (CIM_ERR_INVALID_NAMESPACE if
        there is none)."""
        ns = normalize_namespace(namespace)
        sch = self._schemas.get(ns)
        if sch is None:
            try:
                store = self.cimrepository.get_class_store(namespace)
            except KeyError:
                raise CIMError(CIM_ERR_INVALID_NAMESPACE,
                               f"namespace {namespace!r} does not exist") from None
            sch = Schema(store, self.accept_remote_target_namespaces)
            self._schemas[ns] = sch
        return sch
