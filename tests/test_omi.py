"""The suites against a WS-Management server we did not write: Microsoft's OMI
1.0.8-6 (github microsoft/omi) with its Fan sample providers -- a registered
profile ABC_RegisteredProfile "DMTF:Fan:1.0.1" in interop and root/interop, and
ABC_ElementConformsToProfile linking it to four ABC_Fan in root/omi.

Live where one runs (``WBEMCONFORM_OMI_URL``, e.g. http://127.0.0.1:5985/wsman,
with ``WBEMCONFORM_OMI_USER`` and the password in ``WBEM_PASSWORD``; Basic
auth), else replayed from what it answered (tests/recordings/omi-1.0.8-6,
served by tests/replay.py, which records and replays WS-Management too).
``WBEMCONFORM_REPLAY=1`` replays even with a live server; ``WBEMCONFORM_RECORD=1``
(live only) records anew through a proxy, ``WBEMCONFORM_RECORD=add`` adds.

Every verdict that is not a pass is pinned with the reason it is right, as
judged with raw WS-Management requests (the report of the session that wrote
this file lists them): the true defects of OMI and of its Fan sample fail,
nothing errors. Subjects are named by their class (an association) or label
(a profile).
"""

import base64
import json
import os
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest

from pins import answered, records, subject_key

REPO = Path(__file__).resolve().parents[1]
VERSION = "1.0.8-6"
RECORDING = REPO / "tests" / "recordings" / f"omi-{VERSION}"
URL_VAR, USER_VAR = "WBEMCONFORM_OMI_URL", "WBEMCONFORM_OMI_USER"
RECORD_VAR, REPLAY_VAR = "WBEMCONFORM_RECORD", "WBEMCONFORM_REPLAY"
#: the per-operation bound of the runs; it is in every request (OperationTimeout),
#: so a replay must use the one the recording was made with
TIMEOUT = "20"
RUN_TIMEOUT = 300  # seconds a whole suite run may take here

ECTP = "ABC_ElementConformsToProfile"
FAN = "Fan 1.0.1"

#: how to record the exchanges anew
RECORD_AGAIN = (f"WBEMCONFORM_RECORD=1 {URL_VAR}=URL {USER_VAR}=USER WBEM_PASSWORD=... "
                "pytest tests/test_omi.py")

#: (requirement, subject class or label, variant) -> verdict, with the reason
EXPECTED_FAILURES = {
    # Fan sample defect: from an ABC_Fan in root/omi nothing leads back to the
    # profile. The root/omi side of ABC_ElementConformsToProfile (libfan,
    # working/ABC_ElementConformsToProfile.c) answers AssociatorInstances*
    # with MI_RESULT_OK and no instance, and the interop side is not registered
    # in root/omi. Raw: Enumerate with wsmb:AssociatedInstances(Object = FAN:1
    # in root/omi, AssocClass CIM_ElementConformsToProfile, Role ManagedElement,
    # ResultRole ConformantStandard) -> EnumerateResponse, no items,
    # EndOfSequence; without any filter field only ABC_EnabledLogicalElement-
    # Capabilities and ABC_NumericSensor come back.
    ("TR-2", ECTP, ""): "fail",
    ("TR-3", ECTP, ""): "fail",
    ("RC-2", ECTP, ""): "fail",
    ("CI-2", FAN, ""): "fail",
    # Fan sample defect: ReferenceInstances* of the interop provider post
    # MI_RESULT_NOT_SUPPORTED and OMI answers ReferenceNames/References from
    # the profile (wsmb:AssociationInstances, with or without Role) with no
    # items, while AssociatorNames reaches the four fans.
    ("TR-4", ECTP, ""): "fail",
    # OMI engine defect (disp/disp.c "Fail if no provider was found for
    # request"): an association filter that no association class can match --
    # from the profile, ResultClassName CIM_RegisteredProfile -- is a fault
    # wsman:UnsupportedFeature with CIMStatusCode 7 (CIM_ERR_NOT_SUPPORTED)
    # instead of an empty result (DSP0200 5.3.2.8).
    ("RC-3", ECTP, ""): "fail",
    ("RC-4", ECTP, "property-based"): "fail",  # the same request, with AssocClass and roles
    # Fan sample defect: ABC_ElementConformsToProfile_GetInstance (interop)
    # posts MI_RESULT_NOT_SUPPORTED: a Get of each enumerated association EPR
    # is a fault with CIMStatusCode 7.
    ("PR-2", ECTP, ""): "fail",
    # Fan sample defect: ABC_RegisteredProfile_GetInstance posts
    # MI_RESULT_NOT_SUPPORTED, not MI_RESULT_NOT_FOUND, for a key it does not
    # have (and the association's GetInstance is not implemented at all):
    # CIMStatusCode 7 where DSP0200 wants CIM_ERR_NOT_FOUND.
    ("ER-1", "target", ""): "fail",
    # a SHOULD: the sample registers Fan 1.0.1 only, not DMTF Profile Registration
    ("RP-8", "target", ""): "fail",
    # a SHOULD: OMI serves CIM_RegisteredProfile and ABC_RegisteredProfile with
    # RegisteredOrganization qualified ModelCorrespondence and Required only --
    # no ValueMap, no Values (omigen drops them). Raw: the class Get of
    # CIM_RegisteredProfile in interop (ResourceURI cim-schema/2/*, selector
    # ClassName) answers <PROPERTY NAME="RegisteredOrganization" TYPE="uint16">
    # with those two qualifiers; pywbem's get_selected_profiles would raise
    # ValueError (no Values qualifier).
    ("RP-15", "target", ""): "fail",
    # Fan sample defect: the association class is declared and served in
    # root/omi too (a class Get of ABC_ElementConformsToProfile there works),
    # but enumerating it there is a fault with CIMStatusCode 7: the provider
    # must answer enumeration in both namespaces (WMI step 2.2).
    ("PR-1", ECTP, ""): "fail",
}

#: requirement -> {reason (a part of the message): how many subjects}
EXPECTED_NOT_APPLICABLE = {
    "RP-3": {"adding profiles needs a throwaway target": 1},
    "RP-4": {"RegisteredOrganization is 2": 1},
    "RP-5": {"a WMI requirement": 1},
    "EC-1": {"a WMI requirement": 1}, "EC-2": {"a WMI requirement": 1},
    "EC-3": {"a WMI requirement": 1}, "EC-4": {"a WMI requirement": 2},
    "PR-4": {"a WMI requirement": 1}, "PR-5": {"a WMI requirement": 1},
    "SC-1": {"a WMI requirement": 1},
    # OMI registers no CIM_ReferencedProfile provider: CIMStatusCode 5
    "RP-9": {"no CIM_ReferencedProfile instances": 1},
    "RP-12": {"no CIM_ReferencedProfile instances": 1},
    "RP-14": {"no CIM_ReferencedProfile instances": 1},
    # AdvertiseTypes is NULL; [Required] in OMI's class, whose declaration
    # carries no Description (omigen drops them) to say NULL means Not
    # Advertised, as OMI's CIM schema 2.32 does
    "RP-7": {"AdvertiseTypes is null": 1},
    "RP-10": {"carries no Description": 1},
    # OMI's classes carry no ValueMap qualifiers (omigen drops them)
    "RP-11": {"declares no integer ValueMap": 1},
    # WS-Management has no pull operations
    "TR-6": {"lacks pull-operations": 1},
    # the fans live in root/omi only
    "RC-1": {"no element in the interop namespace": 1,
             "no profile reaches an element in the interop namespace": 1},
    "CI-3": {"no registered profile scopes": 1},
    "CI-4": {"declares no GetCentralInstances method": 1},
    # OMI has no CIM_Namespace, CIM_WBEMServerNamespace or __Namespace
    "NS-2": {"the server lists no namespaces": 1},
}


def _password():
    return os.environ.get("WBEM_PASSWORD") or None


class Served:
    def __init__(self, url, mode, server=None, user=None):
        self.url, self.mode, self.server, self.user = url, mode, server, user

    @property
    def live(self):
        return self.mode in ("live", "record")

    def missing(self):
        return self.server.missing() if self.mode == "replay" else []


@pytest.fixture(scope="module")
def omi():
    import replay
    record = os.environ.get(RECORD_VAR, "").strip().lower()
    record = "" if record in ("0", "no", "false") else record
    live = os.environ.get(URL_VAR) or None
    want_replay = os.environ.get(REPLAY_VAR, "").strip().lower() not in ("", "0", "no", "false")
    if want_replay or not live:
        if record:
            pytest.fail(f"{RECORD_VAR} needs a live OMI ({URL_VAR}) and no {REPLAY_VAR}")
        if not (RECORDING / replay.FILE).is_file():
            pytest.skip(f"no OMI: {URL_VAR} is not set and there is no recording at "
                        f"{RECORDING / replay.FILE}")
        with replay.ReplayServer(RECORDING) as server:
            yield Served(server.url + "/wsman", "replay", server)
        return
    user = os.environ.get(USER_VAR) or None
    if not record:
        yield Served(live, "live", user=user)
        return
    parts = urllib.parse.urlsplit(live)
    proxy = replay.RecordingProxy(f"{parts.scheme}://{parts.hostname}:{parts.port or 80}",
                                  RECORDING, merge=record == "add")
    with proxy:
        yield Served(proxy.url + (parts.path or "/wsman"), "record", proxy, user=user)
    proxy.save()


def suite_run(served, folder, name, *extra):
    """(finished process, results document, seconds) of one suite run."""
    out = Path(folder) / f"{name}.json"
    env = {k: v for k, v in os.environ.items() if k != "WBEM_PASSWORD"}
    args = [sys.executable, "-m", "pytest", str(REPO / "suites"), "-q", "-p", "no:cacheprovider",
            "--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml"),
            "--wbem-url", served.url, "--wbem-timeout", TIMEOUT,
            "--wbem-hypothesis-profile", "ci", "--conformance-json", str(out), *extra]
    if served.live and served.user:
        args += ["--wbem-user", served.user]
        if _password() is not None:
            env["WBEM_PASSWORD"] = _password()
    start = time.monotonic()
    run = subprocess.run(args, cwd=folder, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                         env=env)
    seconds = time.monotonic() - start
    assert out.is_file(), run.stdout[-3000:] + run.stderr[-3000:]
    return run, json.loads(out.read_text()), seconds


@pytest.fixture(scope="module")
def results(omi, tmp_path_factory):
    return suite_run(omi, tmp_path_factory.mktemp("omi"), "omi")


def test_every_non_pass_is_pinned_with_its_reason(omi, results):
    run, doc, _ = answered(omi, results, RECORD_AGAIN)
    failures, not_applicable, other = {}, Counter(), []
    for rid, req in doc["requirements"].items():
        for label, rec in req["subjects"].items():
            key = subject_key(rid, label)
            if rec["verdict"] in ("fail", "error"):
                failures[key] = rec["verdict"]
            elif rec["verdict"] == "not-applicable":
                reasons = EXPECTED_NOT_APPLICABLE.get(rid, {})
                hit = next((r for r in reasons if r in rec["message"]), rec["message"])
                not_applicable[(rid, hit)] += 1
            elif rec["verdict"] != "pass":
                other.append((key, rec["verdict"], rec["message"]))
    assert failures == EXPECTED_FAILURES
    assert not other, other
    assert dict(not_applicable) == {(rid, reason): n for rid, reasons in
                                    EXPECTED_NOT_APPLICABLE.items()
                                    for reason, n in reasons.items()}
    assert doc["flavor"] == "dmtf"
    assert {doc["requirements"][r]["level"] for r in ("RP-8", "RC-4")} == {"SHOULD"}
    assert doc["gate"]["status"] == "failed"  # the defects, never aborted
    assert sorted({f["requirement"] for f in doc["gate"]["failures"]}) == \
        ["CI-2", "ER-1", "PR-1", "PR-2", "RC-2", "RC-3", "TR-2", "TR-3", "TR-4"]
    assert run.returncode == 1, run.stdout[-2000:]


def test_failures_from_one_refusing_provider_are_one_cause(omi, results):
    """ABC_ElementConformsToProfile answers CIM_ERR_NOT_SUPPORTED (checked by
    hand with raw WS-Management requests: a wsman:UnsupportedFeature fault
    with CIMStatusCode 7) to enumeration (root/omi) and to GetInstance
    (interop): PR-1, PR-2 and ER-1 are one shared error, led by PR-1; and to
    AssociatorNames from the profile with ResultClass CIM_RegisteredProfile:
    RC-3 and RC-4 are another. The silent fans lead TR-3, RC-2 and CI-2 as
    before. All still count."""
    _, doc, _ = answered(omi, results, RECORD_AGAIN)
    causes = {c["requirement"]: c for c in doc["causes"]}
    assert {rid: c.get("kind") for rid, c in causes.items()} == {
        "TR-2": "shared-finding", "PR-1": "shared-error", "RC-3": "shared-error"}
    explained = {rid: {e["requirement"] for e in c["explains"]} for rid, c in causes.items()}
    assert explained == {"TR-2": {"TR-3", "RC-2", "CI-2"}, "PR-1": {"PR-2", "ER-1"},
                         "RC-3": {"RC-4"}}
    assert causes["PR-1"]["summary"].startswith(
        "ABC_ElementConformsToProfile answers CIM_ERR_NOT_SUPPORTED to GetInstance in "
        "interop; EnumerateInstanceNames, EnumerateInstances in root/omi")
    assert causes["RC-3"]["summary"] == (
        "ABC_ElementConformsToProfile answers CIM_ERR_NOT_SUPPORTED to AssociatorNames in "
        "interop")
    assert {"PR-1", "PR-2", "ER-1", "RC-3"} <= {f["requirement"] for f in doc["gate"]["failures"]}


def test_the_run_is_bounded_and_writes_nothing(omi, results):
    """It ends well within its bounds (every operation bounded by --wbem-timeout),
    sends no write, and the pywbem central-instance discovery (CI-1) runs over
    WS-Management: it passes."""
    _, doc, seconds = answered(omi, results, RECORD_AGAIN)
    assert seconds < RUN_TIMEOUT
    assert doc["gate"]["status"] != "aborted"
    assert doc["operations"]["writes"] == 0
    assert doc["requirements"]["CI-1"]["subjects"][FAN]["verdict"] == "pass"
    assert "WS-Management" in json.dumps(doc["target"])


def test_no_password_in_any_artifact(omi, results):
    run, doc, _ = answered(omi, results, RECORD_AGAIN)
    password = _password()
    if not omi.live or not password:
        pytest.skip("a replay sends no credentials")
    user = omi.user or ""
    texts = [run.stdout, run.stderr, json.dumps(doc)]
    if omi.mode == "record":
        texts.append(omi.server.save().read_text())
    secrets = [password, base64.b64encode(f"{user}:{password}".encode()).decode(),
               urllib.parse.quote(password)]
    for text in texts:
        for secret in secrets:
            assert secret not in text


def test_the_replay_judges_as_the_live_server(omi, results, tmp_path):
    """Live: the recording replayed gives the live run's records."""
    import replay
    if not omi.live:
        pytest.skip(f"needs a live OMI ({URL_VAR}); this run replays {RECORDING}")
    _, live, _ = answered(omi, results, RECORD_AGAIN)
    if omi.mode == "record":
        recording = omi.server.recording
    elif (RECORDING / replay.FILE).is_file():
        recording = replay.Recording(RECORDING).load()
    else:
        pytest.skip(f"no recording at {RECORDING / replay.FILE} to compare with")
    with replay.ReplayServer(recording) as server:
        again = Served(server.url + "/wsman", "replay", server)
        _, doc, _ = answered(again, suite_run(again, tmp_path, "again"), RECORD_AGAIN)
    assert records(doc) == records(live)


# -- what the OMI run needed of the client and of the replay, without OMI ---------

def test_ws_transfer_writes_reach_omi_and_its_provider_refuses_them(omi):
    """With --wbem-allow-writes, PR-5's three writes go as WS-Transfer Delete,
    Put and Create. OMI takes each as DeleteInstanceReq / ModifyInstanceReq /
    CreateInstanceReq on ABC_ElementConformsToProfile in interop (its log
    says so) and hands it to the Fan sample's provider, which implements
    none of them: a wsman:UnsupportedFeature fault with CIMStatusCode 7,
    which the client reads as CIM_ERR_NOT_SUPPORTED. Nothing changes."""
    from pywbem import CIM_ERR_NOT_SUPPORTED, CIMError, CIMInstance

    from wbemconform.options import TargetOptions
    from wbemconform.targets import open_target
    options = TargetOptions(url=omi.url, timeout=float(TIMEOUT), allow_writes=True,
                            user=omi.user if omi.live else None,
                            password=_password() if omi.live else None)
    target = open_target(options)
    assert "writes" in target.capabilities
    links = target.call("EnumerateInstances", ECTP, namespace="interop")
    assert len(links) == 4
    link = links[0]
    copy = CIMInstance(link.classname, properties=dict(link.items()))
    for operation, args, kwargs in (("DeleteInstance", (link.path,), {}),
                                    ("ModifyInstance", (link,), {}),
                                    ("CreateInstance", (copy,), {"namespace": "interop"})):
        with pytest.raises(CIMError) as info:
            target.call(operation, *args, **kwargs)
        assert info.value.status_code == CIM_ERR_NOT_SUPPORTED, (operation, info.value)
        assert "wsman:UnsupportedFeature" in str(info.value), info.value
    assert len(target.call("EnumerateInstances", ECTP, namespace="interop")) == 4
    answered(omi, None, RECORD_AGAIN)


def test_pywbem_wbemserver_takes_the_wsman_connection():
    """pywbem's WBEMServer (CI-1) checks that its connection is a
    WBEMConnection: the WS-Management connection is one, and no inherited
    operation method could speak CIM-XML."""
    import pywbem
    from wbemconform.targets.wsman_conn import NOT_SUPPORTED, WsmanConnection
    from wbemconform.wsman import ResourceUriMap

    class Poster:
        url = "http://127.0.0.1:9/wsman"

        def post(self, body, operation):
            raise AssertionError(f"{operation} sent")
    conn = WsmanConnection(Poster(), ResourceUriMap(style="omi"))
    pywbem.WBEMServer(conn)
    assert conn.url == "http://127.0.0.1:9/wsman"
    for name in dir(pywbem.WBEMConnection):
        if name[:1].isupper() and not name.startswith("Iter"):
            method = getattr(WsmanConnection, name)  # wbemconform's own (the writes: a mixin)
            assert method.__module__.startswith("wbemconform.targets.wsman") \
                or name in NOT_SUPPORTED, name
            assert method is not getattr(pywbem.WBEMConnection, name), name
    for name in ("ExportIndication", "OpenEnumerateInstances", "EnumerateClassNames"):
        with pytest.raises(pywbem.CIMError) as err:
            getattr(conn, name)("x")
        assert err.value.status_code == pywbem.CIM_ERR_NOT_SUPPORTED


def test_a_null_array_is_one_nil_element():
    """OMI sends a NULL array property as one xsi:nil element; it reads as
    NULL (not as [None]), typed by the class or not, and writes back so."""
    from lxml import etree
    from pywbem import CIMClass, CIMInstance, CIMProperty
    from wbemconform.wsman import instance_from_xml, instance_to_xml
    xml = (b'<p:X_P xmlns:p="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/X_P" '
           b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><p:Id>a</p:Id>'
           b'<p:Types xsi:nil="true"/><p:Two>1</p:Two><p:Two>2</p:Two></p:X_P>')
    cls = CIMClass("X_P", properties=[
        CIMProperty("Id", None, type="string"),
        CIMProperty("Types", None, type="uint16", is_array=True),
        CIMProperty("Two", None, type="uint16", is_array=True)])
    typed = instance_from_xml(etree.fromstring(xml), cimclass=cls)
    assert typed["Types"] is None and typed.properties["Types"].is_array
    assert typed["Two"] == [1, 2]
    assert instance_from_xml(etree.fromstring(xml))["Types"] is None
    again = instance_from_xml(instance_to_xml(CIMInstance("X_P", properties=[
        CIMProperty("Types", None, type="uint16", is_array=True)]), namespace="root/x"),
        cimclass=cls)
    assert again["Types"] is None


def test_wsman_enumerations_record_and_replay_with_stable_contexts(tmp_path):
    """tests/replay.py on WS-Management: a server that numbers its contexts
    afresh and pulls one context several times (as OMI and OpenPegasus do)
    is recorded with stable tokens, RelatesTo follows the request, and the
    replay gives the client the same items; no Authorization is stored."""
    import replay
    from hostile_servers import serve
    from pywbem import CIMInstanceName
    from wbemconform.targets.wsman_conn import WsmanConnection
    from wbemconform.wsman import (ResourceUriMap, build_enumerate_response,
                                   build_pull_response, parse_request)

    paths = [CIMInstanceName("CIM_Fan", {"DeviceID": f"F{i}"}, namespace="root/hw")
             for i in range(3)]
    counter = iter(range(1000, 10 ** 6))
    pulled = Counter()  # the server's context -> Pulls of it so far

    def respond(request, out):
        req = parse_request(request.body)
        if req.operation == "Enumerate":
            body = build_enumerate_response(req.message_id, [paths[0]], optimized=True,
                                            context=str(next(counter)), mode="EnumerateEPR")
        else:  # the same context pulled again until the end, as OpenPegasus does
            pulled[req.context] += 1
            n = pulled[req.context]
            body = build_pull_response(req.message_id, [paths[n]], context=req.context,
                                       end_of_sequence=n >= 2, mode="EnumerateEPR")
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml;charset=UTF-8\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        out.send(head + body)

    class Poster:
        def __init__(self, url):
            import requests
            self.url, self.session = url + "/wsman", requests.Session()

        def post(self, body, operation):
            resp = self.session.post(self.url, data=body, timeout=10, headers={
                "Content-Type": "application/soap+xml;charset=UTF-8",
                "Authorization": "Basic dXNlcjpTZWNyZXQtNDcxMQ=="})
            return resp.content

    def names(url):
        conn = WsmanConnection(Poster(url), ResourceUriMap(style="omi"), max_elements=1)
        return [str(p) for p in conn.EnumerateInstanceNames("CIM_Fan", "root/hw")]

    with serve(respond) as srv:
        proxy = replay.RecordingProxy(srv.url, tmp_path / "rec")
        with proxy:
            first = names(proxy.url)
            second = names(proxy.url)
        saved = proxy.save().read_text()
    assert "dXNlcjpTZWNyZXQtNDcxMQ" not in saved and "Secret-4711" not in saved
    assert "wbemconform-" in saved and ">1000<" not in saved
    rows = [json.loads(line) for line in saved.splitlines()]
    assert Counter(r["method"] for r in rows) == {"WS-Man Enumerate": 1, "WS-Man Pull": 4}
    with replay.ReplayServer(tmp_path / "rec") as server:
        replayed = names(server.url)
        assert not server.missing()
    assert len(first) == 3 and first == second == replayed
