"""What an honest CIM-XML client sends, for the served mock's hardening tests:
one raw request, and the time a normal pywbem client waits for its answer."""

import time

import pywbem

INTEROP = "root/interop"
TIMEOUT = 5  # seconds for any single socket operation in these tests

#: a raw CIM-XML EnumerateInstanceNames of CIM_RegisteredProfile in root/interop
ENUM_NAMES = (
    b'<?xml version="1.0" encoding="utf-8" ?>\n'
    b'<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="7" PROTOCOLVERSION="1.0">'
    b'<SIMPLEREQ><IMETHODCALL NAME="EnumerateInstanceNames"><LOCALNAMESPACEPATH>'
    b'<NAMESPACE NAME="root"/><NAMESPACE NAME="interop"/></LOCALNAMESPACEPATH>'
    b'<IPARAMVALUE NAME="ClassName"><CLASSNAME NAME="CIM_RegisteredProfile"/></IPARAMVALUE>'
    b'</IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>')


def client(url, timeout=TIMEOUT):
    return pywbem.WBEMConnection(url, default_namespace=INTEROP, timeout=timeout)


def normal_client_seconds(url, timeout=TIMEOUT):
    """Seconds a normal pywbem EnumerateInstanceNames takes (it must succeed:
    the example profiles' two registered profiles)."""
    conn = client(url, timeout)
    start = time.monotonic()
    try:
        names = conn.EnumerateInstanceNames("CIM_RegisteredProfile")
    finally:
        conn.close()
    assert len(names) == 2
    return time.monotonic() - start


def query(conn, method, text):
    """A WQL query by ExecQuery or by OpenQueryInstances."""
    if method == "ExecQuery":
        return conn.ExecQuery("WQL", text)
    return conn.OpenQueryInstances("WQL", text)
