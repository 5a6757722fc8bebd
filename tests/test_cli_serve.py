"""`wbemconform serve`: the mock as a WBEM server from the command line."""

import os
import re
import signal
import subprocess
import sys

import pywbem
import pytest

CLI = [sys.executable, "-m", "wbemconform.cli"]


def start(*args, env=None):
    proc = subprocess.Popen(CLI + ["serve", "--port", "0", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    line = proc.stdout.readline()
    m = re.search(r"(https?://[0-9.]+:\d+)", line)
    if not m:
        proc.kill()
        pytest.fail(f"no URL in {line!r}; stderr: {proc.stderr.read()}")
    return proc, m.group(1)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0


def test_serve_default_profiles_on_loopback():
    proc, url = start()
    try:
        assert url.startswith("http://127.0.0.1:")
        conn = pywbem.WBEMConnection(url, default_namespace="root/interop", timeout=10)
        names = {p["RegisteredName"] for p in conn.EnumerateInstances("CIM_RegisteredProfile")}
        assert names == {"Process", "Software Inventory"}
        profile = pywbem.CIMInstanceName("ProcessProfile", {"InstanceID": "Process"},
                                         namespace="root/interop")
        procs = conn.AssociatorNames(profile, ResultClass="Win32_Process")
        assert procs and {p.namespace for p in procs} == {"root/cimv2"}
    finally:
        stop(proc)


def test_serve_with_credentials_and_own_mof(tmp_path):
    mof = tmp_path / "one.mof"
    mof.write_text('class Acme_OneProfile : CIM_RegisteredProfile { };\n'
                   'instance of Acme_OneProfile { InstanceID = "one"; RegisteredName = "One";\n'
                   ' RegisteredOrganization = 2; RegisteredVersion = "1.0.0"; };\n')
    proc, url = start("--mof", str(mof), "--user", "alice", "--password-env", "PW",
                      env={"PW": "pa55"})
    try:
        anon = pywbem.WBEMConnection(url, default_namespace="root/interop", timeout=10)
        with pytest.raises(pywbem.AuthError):
            anon.EnumerateInstanceNames("CIM_RegisteredProfile")
        conn = pywbem.WBEMConnection(url, ("alice", "pa55"), default_namespace="root/interop",
                                     timeout=10)
        assert [p["InstanceID"] for p in conn.EnumerateInstanceNames("CIM_RegisteredProfile")] \
            == ["one"]
    finally:
        stop(proc)


@pytest.mark.parametrize("args, message", [
    (["--mof", "/nonexistent.mof"], "--mof /nonexistent.mof: no such file"),
    (["--user", "bob"], "--user needs --password-env"),
    (["--user", "bob", "--password-env", "WBEMCONFORM_UNSET_VAR"], "the variable is not set"),
    (["--fault", "nonsense"], "cannot serve"),
    (["--quirk", "nonsense"], "--quirk nonsense: no such mock quirk; known: assocclass-exact, "
                              "method-not-found, pull-ignores-assocclass, result-class-ignored, "
                              "role-fails-without-assocclass, role-ignored"),
    # a password nobody is asked for: the server would run without authentication
    (["--password-env", "WBEMCONFORM_PW"], "--password-env WBEMCONFORM_PW needs --user"),
    (["--user", "bob", "--password-env", "WBEMCONFORM_EMPTY"],
     "--password-env WBEMCONFORM_EMPTY: the variable is empty"),
    (["--user", "", "--password-env", "WBEMCONFORM_PW"], "--user: the user name is empty"),
    # not loopback, no authentication: refused before anything is bound
    (["--host", "0.0.0.0"], "--host 0.0.0.0 is not a loopback address"),
    (["--host", "::"], "--host :: is not a loopback address"),
    (["--host", "0.0.0.0", "--read-only"], "--allow-unauthenticated-remote"),
])
def test_serve_input_errors_are_one_line(args, message):
    out = subprocess.run(CLI + ["serve", "--port", "0", *args], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "WBEMCONFORM_PW": "pa55",
                                          "WBEMCONFORM_EMPTY": ""})
    assert out.returncode == 2, out.stdout
    assert message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "pa55" not in out.stderr + out.stdout


def test_allow_unauthenticated_remote_lifts_the_refusal():
    """With the option the server tries to bind (192.0.2.1, TEST-NET-1, is not
    this host's, so binding fails: nothing is exposed by the test)."""
    out = subprocess.run(CLI + ["serve", "--port", "0", "--host", "192.0.2.1",
                                "--allow-unauthenticated-remote"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "cannot serve on 192.0.2.1:0" in out.stderr, out.stderr
    assert "loopback" not in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_serve_read_only():
    proc, url = start("--read-only")
    try:
        conn = pywbem.WBEMConnection(url, default_namespace="root/interop", timeout=10)
        profile = conn.EnumerateInstances("CIM_RegisteredProfile")[0]
        profile["RegisteredName"] = "Tampered"
        with pytest.raises(pywbem.CIMError) as err:
            conn.ModifyInstance(profile)
        assert err.value.status_code == pywbem.CIM_ERR_ACCESS_DENIED
        assert "Tampered" not in {p["RegisteredName"]
                                  for p in conn.EnumerateInstances("CIM_RegisteredProfile")}
    finally:
        stop(proc)


def test_serve_with_a_quirk():
    """--quirk seeds a CIMOM defect (a negative control served): role-ignored
    answers an unknown Role as if no Role were given."""
    profile = pywbem.CIMInstanceName("ProcessProfile", {"InstanceID": "Process"},
                                     namespace="root/interop")
    for quirk, found in ((["--quirk", "role-ignored"], True), ([], False)):
        proc, url = start("--read-only", *quirk)
        try:
            conn = pywbem.WBEMConnection(url, default_namespace="root/interop", timeout=10)
            assert bool(conn.AssociatorNames(profile, ResultClass="Win32_Process",
                                             Role="NoSuchRole")) is found
        finally:
            stop(proc)


def test_fault_help_lists_the_fault_kinds():
    from wbemconform.server import FAULT_KINDS
    out = subprocess.run(CLI + ["serve", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    text = " ".join(out.stdout.split())
    assert "parse_fault" not in text
    fault_help = text[text.index("--fault [after:N:]KIND "):]
    for kind in FAULT_KINDS:
        assert f" {kind}" in fault_help, kind
    assert "delay:SECONDS" in fault_help and "after:N" in fault_help
