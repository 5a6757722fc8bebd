"""Reports of WS-Management runs (issue 20, item 7): the protocol and the
authentication scheme in the JSON, the terminal and the HTML; per failing
operation a PowerShell (CimCmdlets) line for WinRM targets and, for any
WS-Management server, the saved request envelope with a curl line that
posts it again -- never a password."""

import html
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import zoo

from wbemconform.report import render_report
from wbemconform.reproduce import (
    curl_command,
    evidence_commands,
    is_winrm,
    powershell_command,
    protocol_of,
)
from wbemconform.server import default_apps, serve
from wbemconform.targets import open_target

REPO = Path(__file__).resolve().parents[1]
URL = "https://win.example.com:5986/wsman"
ENVELOPE = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
            '<s:Header><wsa:To>https://win.example.com:5986/wsman</wsa:To></s:Header>'
            '<s:Body><wsen:Enumerate/></s:Body></s:Envelope>')
PROFILE = '//win/root/interop:CIM_RegisteredProfile.InstanceID="Contoso:Fan"'


def _doc(**over):
    evidence = [
        {"operation": "AssociatorNames",
         "arguments": {"arg0": PROFILE, "AssocClass": "CIM_ElementConformsToProfile",
                       "ResultClass": "Win32_Process"},
         "outcome": "ok", "result": "0 object(s): []", "envelope": ENVELOPE},
        {"operation": "References",
         "arguments": {"arg0": PROFILE, "ResultClass": "CIM_ElementConformsToProfile",
                       "Role": "ConformantStandard"},
         "outcome": "cim-error", "result": "CIM_ERR_FAILED: x", "envelope": ENVELOPE},
        {"operation": "EnumerateInstances",
         "arguments": {"arg0": "CIM_RegisteredProfile", "namespace": "root/interop"},
         "outcome": "ok", "result": "1 object(s)", "envelope": ENVELOPE},
        {"operation": "GetInstance", "arguments": {"arg0": PROFILE},
         "outcome": "ok", "result": PROFILE, "envelope": ENVELOPE},
    ]
    doc = {"schema": 1, "tool": "wbemconform", "suite_version": "0",
           "target": f"{URL} (WS-Management, ntlm)", "protocol": "WS-Management",
           "auth": "ntlm", "tls": "tls: verified with ca.pem", "flavor": "wmi",
           "options": {"--wbem-url": URL, "--wbem-user": "EXAMPLE\\admin",
                       "--wbem-auth": "ntlm", "--wbem-ca-certs": "/etc/ca.pem"},
           "counts": {"fail": 1}, "gate": {"status": "failed", "passed": False},
           "requirements": {"TR-1": {
               "level": "MUST", "group": "TR", "subject": "association",
               "statement": "traversal", "verdict": "fail",
               "subjects": {"Fan -> root/omi:CIM_Fan": {
                   "verdict": "fail", "message": "nothing came back",
                   "evidence": evidence, "test": "suites/test_tr.py::test_tr1[x]"}}}}}
    doc.update(over)
    return doc


def test_powershell_lines_for_a_winrm_target():
    doc = _doc()
    assert protocol_of(doc) == "WS-Management" and is_winrm(doc)
    ev = doc["requirements"]["TR-1"]["subjects"]["Fan -> root/omi:CIM_Fan"]["evidence"]
    session = ("$s = New-CimSession -ComputerName win.example.com -Port 5986 -Authentication "
               "Negotiate -Credential (Get-Credential EXAMPLE\\admin) -SessionOption "
               "(New-CimSessionOption -UseSsl); ")
    assert powershell_command(doc, ev[0]) == (
        session + "Get-CimAssociatedInstance -CimSession $s -InputObject (New-CimInstance "
        "-ClientOnly -Namespace root/interop -ClassName CIM_RegisteredProfile -Key InstanceID "
        "-Property @{InstanceID='Contoso:Fan'}) -Association CIM_ElementConformsToProfile "
        "-ResultClassName Win32_Process -KeyOnly")
    assert powershell_command(doc, ev[1]) == (
        session + "Get-CimInstance -CimSession $s -Namespace root/interop -Query "
        "'REFERENCES OF {CIM_RegisteredProfile.InstanceID=\"Contoso:Fan\"} WHERE "
        "ResultClass = CIM_ElementConformsToProfile Role = ConformantStandard'")
    assert powershell_command(doc, ev[2]) == (
        session + "Get-CimInstance -CimSession $s -Namespace root/interop -ClassName "
        "CIM_RegisteredProfile")
    assert powershell_command(doc, ev[3]).startswith(
        session + "Get-CimInstance -CimSession $s -InputObject (New-CimInstance -ClientOnly")
    # the default WinRM listener (HTTP 5985, Negotiate as the current user): no session
    plain = _doc(auth="negotiate", options={"--wbem-url": "http://win:5985/wsman",
                                            "--wbem-auth": "negotiate"})
    assert powershell_command(plain, ev[2]) == (
        "Get-CimInstance -ComputerName win -Namespace root/interop -ClassName "
        "CIM_RegisteredProfile")


def test_curl_line_posts_the_saved_envelope_and_asks_for_the_password():
    doc = _doc()
    ev = doc["requirements"]["TR-1"]["subjects"]["Fan -> root/omi:CIM_Fan"]["evidence"][1]
    line = curl_command(doc, ev)
    assert shlex.split(line) == [
        "curl", "--ntlm", "-u", "EXAMPLE\\admin", "--cacert", "/etc/ca.pem",
        "--data-binary", "@request.xml", "-H", "Content-Type: application/soap+xml;charset=UTF-8",
        URL]
    basic = _doc(auth="basic", options={"--wbem-url": "http://127.0.0.1:5985/wsman"})
    assert curl_command(basic, ev) == (
        "curl -u USER --data-binary @request.xml -H 'Content-Type: "
        "application/soap+xml;charset=UTF-8' http://127.0.0.1:5985/wsman")
    assert curl_command(doc, {**ev, "envelope": None}) is None


def test_any_wsman_server_gets_curl_but_no_powershell_unless_winrm_like():
    doc = _doc(flavor="dmtf", target="https://bmc.example.com/wsman (WS-Management, basic)",
               auth="basic", options={"--wbem-url": "https://bmc.example.com/wsman"})
    assert not is_winrm(doc)
    ev = doc["requirements"]["TR-1"]["subjects"]["Fan -> root/omi:CIM_Fan"]["evidence"][0]
    cmds = evidence_commands(doc, doc["target"], ev)
    assert cmds["command"] is None and cmds["curl"].startswith("curl -u USER ")
    assert cmds["envelope"] == ENVELOPE


def test_cimxml_evidence_keeps_its_pywbemcli_lines():
    doc = _doc(protocol="CIM-XML", auth="basic", target="https://h:5989",
               options={"--wbem-url": "https://h:5989"})
    ev = doc["requirements"]["TR-1"]["subjects"]["Fan -> root/omi:CIM_Fan"]["evidence"][0]
    cmds = evidence_commands(doc, "https://h:5989", ev)
    assert cmds["command"].startswith("pywbemcli -s https://h:5989 --use-pull no "
                                      "instance associators")
    assert cmds["curl"] is None
    page = render_report(doc)
    assert "pywbemcli -s https://h:5989" in html.unescape(page)
    assert "<pre class=\"repro-curl\">" not in page and "curl -u" not in page


def test_html_shows_protocol_auth_powershell_curl_and_envelope():
    page = html.unescape(render_report(_doc()))
    assert re.search(r"<dt>Protocol</dt><dd>WS-Management, authentication: ntlm</dd>", page)
    assert "PowerShell (CimCmdlets)" in page
    assert "Get-CimAssociatedInstance -CimSession $s" in page
    ps = re.findall(r"<pre class=\"repro-ps\">([^<]*)</pre>", render_report(_doc()))
    assert ps and html.unescape(ps[0]).startswith("$s = New-CimSession -ComputerName win")
    repro = re.findall(r'<pre class="repro-curl">([^<]*)</pre>', render_report(_doc()))
    assert repro and html.unescape(repro[0]).startswith("curl --ntlm -u 'EXAMPLE\\admin' ")
    # the envelope shown is the decisive (first failing) operation's
    assert ENVELOPE in page


def test_suites_over_served_wsman_record_protocol_auth_and_envelopes(tmp_path):
    """End to end: the suites against a defect-zoo entry served at /wsman with
    Basic auth (WBEM_PASSWORD); the terminal and the JSON say WS-Management
    and basic, the HTML holds curl lines and the saved envelopes, and the
    password is in no file and not in the output."""
    password = "S3cret-wsman-pw!"
    mock = open_target(zoo.options("target-ns-missing-interop")).conn
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    oplog = tmp_path / "ops.jsonl"
    with serve(mock, apps=default_apps(), user="tester", password=password) as server:
        url = server.url + "/wsman"
        run = subprocess.run(
            [sys.executable, "-m", "pytest", str(REPO / "suites"), "--rootdir", str(REPO),
             "-c", str(REPO / "pyproject.toml"), "-p", "no:cacheprovider", "-q",
             "--wbem-url", url, "--wbem-user", "tester", "--wbem-workers", "1",
             "--conformance-json", str(out_json), "--conformance-report", str(out_html),
             "--wbem-operation-log", str(oplog)],
            cwd=tmp_path, capture_output=True, text=True, timeout=600,
            env={**os.environ, "WBEM_PASSWORD": password})
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-2000:]
    assert re.search(r"target: .*/wsman \(WS-Management, basic\).*protocol: WS-Management"
                     r"   auth: basic", run.stdout), run.stdout[-3000:]
    doc = json.loads(out_json.read_text())
    assert doc["protocol"] == "WS-Management" and doc["auth"] == "basic"
    assert doc["gate"]["status"] != "passed"
    failing = [e for req in doc["requirements"].values() for rec in req["subjects"].values()
               if rec["verdict"] in ("fail", "error") for e in rec.get("evidence", [])]
    assert failing and all(e["envelope"].startswith("<") for e in failing if e.get("envelope"))
    assert any(e.get("envelope") for e in failing)
    page = out_html.read_text()
    text = html.unescape(page)
    assert "WS-Management, authentication: basic" in text
    assert (f"curl -u tester --data-binary @request.xml -H 'Content-Type: "
            f"application/soap+xml;charset=UTF-8' {url}") in text
    assert '<pre class="envelope">' in page and "Envelope" in text
    for path in (out_json, out_html, oplog):
        assert password not in path.read_text(), path
    assert password not in run.stdout + run.stderr


def test_the_evidence_keeps_each_operations_first_envelope_scrubbed_and_bounded():
    from wbemconform.options import Secret, TargetOptions
    from wbemconform.results import evidence_dict
    from wbemconform.targets.wsman import KEPT_ENVELOPE_BYTES, _WsmanTarget

    class Conn:
        sent_envelope = b"<probe/>"  # left by the class probe at open: not an operation's

        def take_envelope(self):
            body, self.sent_envelope = self.sent_envelope, None
            return body

        def EnumerateInstanceNames(self, ClassName, namespace=None):  # noqa: N802,N803
            self.sent_envelope = (b"<s:Envelope>hunter2-pw" + b" " * KEPT_ENVELOPE_BYTES
                                  + b"</s:Envelope>")
            return []

        def GetInstance(self, InstanceName):  # noqa: N802,N803
            return None  # sends nothing (as a refused operation)

    target = _WsmanTarget(Conn(), "http://x/wsman (WS-Management, basic)",
                          options=TargetOptions(url="http://x/wsman", user="u",
                                                password=Secret("hunter2-pw")))
    target.call("EnumerateInstanceNames", "CIM_Fan", namespace="root/omi")
    target.call("GetInstance", "x")
    first, second = (evidence_dict(c) for c in target.calls)
    assert first["envelope"].startswith("<s:Envelope>") and "hunter2-pw" not in first["envelope"]
    assert len(first["envelope"]) < KEPT_ENVELOPE_BYTES + 100
    assert first["envelope"].endswith("more bytes -->")
    assert "envelope" not in second
