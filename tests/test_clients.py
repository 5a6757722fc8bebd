"""Independent WBEM clients against the served mock: pywbemcli (pywbemtools,
pywbem's command line) and wbemcli (SBLIM's C++ client, Debian package
sblim-wbemcli). Each test skips, saying why, when its client is absent."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pywbem import CIMInstanceName

from wbemconform.mock import connect
from wbemconform.server import serve

INTEROP = "root/interop"
CIMV2 = "root/cimv2"
PROFILE = 'ProcessProfile.InstanceID="Process"'
ECTP = "CIM_ElementConformsToProfile"
TIMEOUT = 60
USER, PASSWORD = "operator", "pa55-w0rd"


def find_client(name):
    beside = Path(sys.executable).with_name(name)  # the venv's console script
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


PYWBEMCLI = find_client("pywbemcli")
WBEMCLI = shutil.which("wbemcli")
needs_pywbemcli = pytest.mark.skipif(
    PYWBEMCLI is None, reason="pywbemcli is not installed (pip install 'pywbemtools>=1.2,<2', "
                              "part of the test extras)")
needs_wbemcli = pytest.mark.skipif(
    WBEMCLI is None, reason="wbemcli is not installed (Debian package sblim-wbemcli; "
                            ".ci/setup installs it when run as root)")


def run(cmd, cwd):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYWBEMCLI_", "WBEM_", "HTTP_PROXY", "HTTPS_PROXY",
                                "http_proxy", "https_proxy"))}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["HOME"] = str(cwd)  # no user connections file, nothing left behind
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd,
                            env=env, stdin=subprocess.DEVNULL, check=False)
    assert result.returncode == 0, (cmd, result.returncode, result.stdout[-3000:],
                                    result.stderr[-3000:])
    assert "Traceback" not in result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def mock():
    return connect()


@pytest.fixture(scope="module")
def served(mock):
    with serve(mock) as server:
        yield server


@pytest.fixture(scope="module")
def auth_served(mock):
    with serve(mock, user=USER, password=PASSWORD) as server:
        yield server


@pytest.fixture(scope="module")
def truth(mock):
    """What the in-process mock says: profiles, and the processes of the Process profile."""
    profiles = mock.EnumerateInstances("CIM_RegisteredProfile", namespace=INTEROP)
    source = CIMInstanceName("ProcessProfile", {"InstanceID": "Process"}, namespace=INTEROP)
    processes = mock.Associators(source, AssocClass=ECTP, ResultClass="Win32_Process")
    assert processes and all(p.path.namespace.strip("/") == CIMV2 for p in processes)
    return {"profiles": {p["RegisteredName"] for p in profiles},
            "process_names": sorted(p["Name"] for p in processes),
            "handles": sorted(p.path.keybindings["Handle"] for p in processes)}


# -- pywbemcli ---------------------------------------------------------------------

def pywbemcli(url, *args, cwd, auth=False, pull="either"):
    creds = ["-u", USER, "-p", PASSWORD] if auth else []
    return run([PYWBEMCLI, "-s", url, *creds, "-d", INTEROP, "-U", pull, "-t", "30", *args],
               cwd)


@needs_pywbemcli
@pytest.mark.parametrize("pull", ["yes", "no"])
def test_pywbemcli_enumerates_registered_profiles(served, truth, tmp_path, pull):
    out = pywbemcli(served.url, "instance", "enumerate", "CIM_RegisteredProfile",
                    cwd=tmp_path, pull=pull)
    assert re.findall(r'RegisteredName = "([^"]*)"', out) and \
        set(re.findall(r'RegisteredName = "([^"]*)"', out)) == truth["profiles"], out
    assert "instance of ProcessProfile {" in out


@needs_pywbemcli
@pytest.mark.parametrize("pull", ["yes", "no"])
def test_pywbemcli_associators_with_result_class_across_namespaces(served, truth, tmp_path,
                                                                   pull):
    out = pywbemcli(served.url, "instance", "associators", PROFILE, "--rc", "Win32_Process",
                    cwd=tmp_path, pull=pull)
    assert out.count("instance of Win32_Process {") == len(truth["process_names"]), out
    assert sorted(re.findall(r'^\s+Name = "([^"]*)";', out, flags=re.MULTILINE)) == \
        truth["process_names"], out
    names = pywbemcli(served.url, "instance", "associators", PROFILE, "--rc", "Win32_Process",
                      "--ac", ECTP, "--no", cwd=tmp_path, pull=pull)
    paths = [line for line in names.splitlines() if "Win32_Process." in line]
    assert len(paths) == len(truth["handles"]), names
    assert all(f"/{CIMV2}:Win32_Process." in p for p in paths), names
    assert sorted(re.search(r'Handle="([^"]*)"', p).group(1) for p in paths) == \
        truth["handles"], names


@needs_pywbemcli
def test_pywbemcli_with_credentials(auth_served, truth, tmp_path):
    out = pywbemcli(auth_served.url, "instance", "enumerate", "CIM_RegisteredProfile", "--no",
                    cwd=tmp_path, auth=True)
    assert f"/{INTEROP}:{PROFILE}" in out, out
    result = subprocess.run(
        [PYWBEMCLI, "-s", auth_served.url, "-d", INTEROP, "-t", "30", "instance", "enumerate",
         "CIM_RegisteredProfile"], capture_output=True, text=True, timeout=TIMEOUT,
        cwd=tmp_path, env=dict(os.environ, HOME=str(tmp_path)), stdin=subprocess.DEVNULL,
        check=False)
    assert result.returncode != 0
    assert "401" in result.stderr or "AuthError" in result.stderr, result.stderr


# -- wbemcli -------------------------------------------------------------------------

def wbem_url(url, namespace, path, auth=False):
    scheme, rest = url.split("://", 1)
    creds = f"{USER}:{PASSWORD}@" if auth else ""
    return f"{scheme}://{creds}{rest}/{namespace}:{path}"


@needs_wbemcli
def test_wbemcli_enumerates_registered_profiles(served, truth, tmp_path):
    out = run([WBEMCLI, "ei", wbem_url(served.url, INTEROP, "CIM_RegisteredProfile")], tmp_path)
    names = set(re.findall(r'RegisteredName="([^"]*)"', out))
    assert names == truth["profiles"], out
    assert f'/{INTEROP}:{PROFILE} ' in out, out


@needs_wbemcli
def test_wbemcli_associator_names_with_result_class_across_namespaces(served, truth,
                                                                      tmp_path):
    out = run([WBEMCLI, "ain", "-ac", ECTP, "-arc", "Win32_Process",
               wbem_url(served.url, INTEROP, PROFILE)], tmp_path)
    lines = [line for line in out.splitlines() if line.strip()]
    assert all(f"/{CIMV2}:Win32_Process." in line for line in lines), out
    assert sorted(re.search(r'Handle="([^"]*)"', line).group(1) for line in lines) == \
        truth["handles"], out


@needs_wbemcli
def test_wbemcli_associators_with_result_class_across_namespaces(served, truth, tmp_path):
    out = run([WBEMCLI, "ai", "-arc", "Win32_Process", wbem_url(served.url, INTEROP, PROFILE)],
              tmp_path)
    assert sorted(re.findall(r'(?<![A-Za-z])Name="([^"]*)"', out)) == truth["process_names"], out


@needs_wbemcli
def test_wbemcli_with_credentials(auth_served, truth, tmp_path):
    out = run([WBEMCLI, "ein", wbem_url(auth_served.url, INTEROP, "CIM_RegisteredProfile",
                                        auth=True)], tmp_path)
    assert f"/{INTEROP}:{PROFILE}" in out, out
    result = subprocess.run(
        [WBEMCLI, "ein", wbem_url(auth_served.url, INTEROP, "CIM_RegisteredProfile")],
        capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path, stdin=subprocess.DEVNULL,
        check=False)
    assert result.returncode != 0 or f"/{INTEROP}:{PROFILE}" not in result.stdout
    text = result.stdout + result.stderr
    assert "401" in text or "Username/password required" in text, text
