"""pywbem's WBEMServer over a suite target: its operations logged and guarded.

The one private use of pywbem for this concern: ``WBEMServer`` takes a
``WBEMConnection`` (it checks the type) and keeps it as ``_conn``; every
operation it issues goes through that attribute. The suites need those
operations to go through :meth:`wbemconform.targets.base.Target.call` -- logged as
evidence, bounded, refused when they write -- so the attribute is replaced
here, and nowhere else. tests/test_private_apis.py fails loudly if pywbem
stops issuing its operations through ``_conn``.
"""

from __future__ import annotations

from pywbem import WBEMServer

__all__ = ["logged_wbem_server"]


class _LoggedConnection:
    """What WBEMServer needs of a connection, every operation through Target.call."""

    def __init__(self, target):
        self._target = target
        self.conn = target.conn

    def __getattr__(self, name):
        attr = getattr(self.conn, name)
        if callable(attr) and name[:1].isupper():
            return lambda *a, **k: self._target.call(name, *a, **k)
        return attr


def logged_wbem_server(target) -> WBEMServer:
    """A WBEMServer whose operations are the target's calls."""
    server = WBEMServer(target.conn)
    server._conn = _LoggedConnection(target)  # private: see the module docstring
    return server
