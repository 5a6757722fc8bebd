"""The MOF compiler's view of a connection (pywbem's
``BaseRepositoryConnection``): every call goes to the server, so that the
mock's broker applies its rules to what the MOF declares."""

from __future__ import annotations

from pywbem import BaseRepositoryConnection, CIMError

__all__ = ["ConnectionHandle"]


class ConnectionHandle(BaseRepositoryConnection):
    """The MOF compiler's view of a connection: every call goes to the server."""

    def __init__(self, conn, default_namespace):
        self.conn = None  # the compiler wants a WBEMConnection or None here
        self._conn = conn
        self._default_namespace = default_namespace
        # the compiler asks for an instance's class once per "instance of":
        # remember classes (as pywbem_mock's own compiler connection does)
        # until a class changes
        self._classes = {}
        #: while true, GetClass lends the remembered class instead of a copy
        #: (set around pywbem's instance declaration, which only reads it)
        self.lending = False

    @property
    def default_namespace(self):
        return self._default_namespace

    def getns(self):
        return self._default_namespace

    def _ns(self, kwargs):
        return kwargs.pop("namespace", None) or self._default_namespace

    def EnumerateInstanceNames(self, *args, **kwargs):
        return self._conn.EnumerateInstanceNames(*args, namespace=self._ns(kwargs), **kwargs)

    def CreateInstance(self, *args, **kwargs):
        ns = self._ns(kwargs)
        inst = args[0] if args else kwargs.pop("NewInstance")
        inst.path = None
        path = self._conn.CreateInstance(inst, namespace=ns)
        if path.namespace is None:
            path.namespace = ns
        path.host = None
        return path

    def ModifyInstance(self, *args, **kwargs):
        return self._conn.ModifyInstance(*args, **kwargs)

    def DeleteInstance(self, *args, **kwargs):
        return self._conn.DeleteInstance(*args, **kwargs)

    def GetClass(self, *args, **kwargs):
        ns = self._ns(kwargs)
        key = (ns.lower(), str(args[0] if args else kwargs.get("ClassName")).lower(),
               tuple(sorted((k, str(v)) for k, v in kwargs.items())))
        if key not in self._classes:
            self._classes[key] = self._conn.GetClass(*args, namespace=ns, **kwargs)
        return self._classes[key] if self.lending else self._classes[key].copy()

    def class_exists(self, classname, namespace):
        cheap = getattr(self._conn, "class_exists_in", None)
        if cheap is not None:
            return cheap(namespace, classname)
        try:
            self.GetClass(classname, namespace=namespace, LocalOnly=False,
                          IncludeQualifiers=True)
            return True
        except CIMError:
            return False

    def CreateClass(self, *args, **kwargs):
        self._classes.clear()
        return self._conn.CreateClass(*args, namespace=self._ns(kwargs), **kwargs)

    def ModifyClass(self, *args, **kwargs):
        self._classes.clear()
        return self._conn.ModifyClass(*args, namespace=self._ns(kwargs), **kwargs)

    def DeleteClass(self, *args, **kwargs):
        self._classes.clear()
        return self._conn.DeleteClass(*args, namespace=self._ns(kwargs), **kwargs)

    def EnumerateQualifiers(self, *args, **kwargs):
        return self._conn.EnumerateQualifiers(*args, namespace=self._ns(kwargs), **kwargs)

    def GetQualifier(self, *args, **kwargs):
        return self._conn.GetQualifier(*args, namespace=self._ns(kwargs), **kwargs)

    def SetQualifier(self, *args, **kwargs):
        return self._conn.SetQualifier(*args, namespace=self._ns(kwargs), **kwargs)

    def DeleteQualifier(self, *args, **kwargs):
        return self._conn.DeleteQualifier(*args, namespace=self._ns(kwargs), **kwargs)
