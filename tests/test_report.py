"""The HTML conformance report (``--conformance-report``, ``wbemconform report``).

Reports are rendered from real runs of the suites (the all-pass embedded
mock, a defect-zoo target with MUST failures, the same with waivers, a
baseline diff), parsed with html.parser, and -- where Debian's chromium is
installed -- loaded in headless Chromium: the DOM after the page's script,
and a screenshot of each (in the test's folder, or $WBEMCONFORM_SCREENSHOTS).
"""

import copy
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import textwrap
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fake_http import closed_port, fake_server

from wbemconform import cli
from wbemconform.report import (
    MAX_EVIDENCE,
    ReportError,
    pywbemcli_command,
    render_report,
    validate_document,
    write_report,
)

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
SUITES = REPO / "suites"
ZOO = REPO / "tests" / "defects"
FAILING_MOF = ZOO / "target-ns-missing-interop" / "defect.mof"
GOOD_MOF = ZOO / "good-spec-process" / "defect.mof"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists(
    "/usr/bin/chromium") else None)
FAILING = ("fail", "error")
RANK = {"error": 0, "fail": 1, "waived": 2, "pass": 3, "not-applicable": 4, "skip": 5}


# -- helpers -------------------------------------------------------------------

class Page(HTMLParser):
    """What the tests look at in a report: ids, matrix cells, resource loads."""

    LOADING = {"link": "href", "script": "src", "img": "src", "iframe": "src",
               "embed": "src", "object": "data", "source": "src", "audio": "src",
               "video": "src", "track": "src", "input": "src"}

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.by_id = {}
        self.dup_ids = []
        self.cells = []
        self.loads = []
        self.tags = Counter()
        self.body = {}
        self._cell = None
        self._text_of = None
        self.texts = {}
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] += 1
        if tag == "body":
            self.body = a
        if "id" in a:
            if a["id"] in self.by_id:
                self.dup_ids.append(a["id"])
            self.by_id[a["id"]] = (tag, a)
        if tag == "td" and "data-v" in a:
            self._cell = {"v": a["data-v"], "cls": (a.get("class") or "").split(),
                          "href": None, "text": ""}
            self.cells.append(self._cell)
        elif tag == "a" and self._cell is not None and self._cell["href"] is None:
            self._cell["href"] = a.get("href")
        attr = self.LOADING.get(tag)
        if attr and a.get(attr):
            self.loads.append((tag, a[attr]))
        if a.get("class") == "big":
            self._text_of = "big"
            self.texts["big"] = ""

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None
        if tag == "div":
            self._text_of = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data
        if self._text_of:
            self.texts[self._text_of] += data


def effective(rec):
    return "waived" if rec.get("waived") else rec["verdict"]


def records(doc):
    return {(rid, label): rec for rid, req in doc["requirements"].items()
            for label, rec in req["subjects"].items()}


def nonzero(counts):
    return {k: v for k, v in counts.items() if v}


def check_matrix(page, doc):
    """One cell per (requirement, subject) record, with the record's verdict,
    linking to that record's detail block; failing cells to a failure case."""
    recs = records(doc)
    assert len(page.cells) == len(recs)
    assert Counter(c["v"] for c in page.cells) == nonzero(doc["counts"])
    seen = set()
    for cell in page.cells:
        assert f"v-{cell['v']}" in cell["cls"], cell
        assert cell["text"].strip(), cell
        href = cell["href"]
        assert href and href.startswith("#d-"), cell
        assert href[1:] in page.by_id, f"cell links to a missing anchor: {href}"
        _, attrs = page.by_id[href[1:]]
        key = (attrs["data-req"], attrs["data-subject"])
        assert key in recs and key not in seen, key
        seen.add(key)
        assert effective(recs[key]) == cell["v"], (key, cell)
        assert href[1:].startswith(f"d-{key[0]}-")
        if cell["v"] in FAILING:
            assert "case" in attrs.get("class", "").split(), (key, attrs)
    assert seen == set(recs)
    assert not page.dup_ids


def check_self_contained(html, page):
    assert not page.loads, f"the report loads resources: {page.loads}"
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html), "CSS loads a resource"
    assert "@import" not in html
    assert page.tags["style"] >= 1 and page.tags["script"] >= 1


def run_suites(*args, cwd=REPO, env=None):
    cmd = [sys.executable, "-m", "pytest", str(SUITES), "-p", "no:cacheprovider",
           "--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml"), *map(str, args)]
    return subprocess.run(cmd, cwd=cwd, check=False, capture_output=True, text=True, env=env, timeout=600)


# -- real runs (once per module) -------------------------------------------------

@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """name -> {"doc", "json", "html", "stdout"} of runs of the suites, made once."""
    out = tmp_path_factory.mktemp("runs")
    made = {}

    def run(name, *args, expect_rc=None):
        if name in made:
            return made[name]
        js, html = out / f"{name}.json", out / f"{name}.html"
        res = run_suites("--conformance-json", js, "--conformance-report", html, *args)
        assert js.is_file() and html.is_file(), res.stdout[-3000:] + res.stderr[-3000:]
        if expect_rc is not None:
            assert res.returncode == expect_rc, res.stdout[-3000:]
        made[name] = {"doc": json.loads(js.read_text()), "json": js, "html": html,
                      "stdout": res.stdout, "stderr": res.stderr}
        return made[name]

    def get(name):
        if name == "all-pass":
            return run(name, expect_rc=0)
        if not FAILING_MOF.exists() or not GOOD_MOF.exists():
            pytest.skip("defect zoo entries target-ns-missing-interop / good-spec-process "
                        "not present")
        if name == "failing":
            return run(name, "--wbem-mock-mof", FAILING_MOF, expect_rc=1)
        if name == "good-zoo":
            return run(name, "--wbem-mock-mof", GOOD_MOF, expect_rc=0)
        if name == "waived":
            waivers = out / "waivers.toml"
            waivers.write_text(textwrap.dedent("""
                [[waiver]]
                requirement = "EC-3"
                reason = "qualifier lands in release 2"
                expires = 2099-12-31

                [[waiver]]
                requirement = "RC-4"
                profile = "Process"
                reason = "same root cause as EC-3"
                expires = 2020-01-01
            """))
            return run(name, "--wbem-mock-mof", FAILING_MOF, "--conformance-waivers", waivers)
        if name == "baseline-diff":
            failing, good = get("failing"), get("good-zoo")
            html = out / "baseline-diff.html"
            assert cli.main(["report", str(failing["json"]), "-o", str(html),
                             "--baseline", str(good["json"])]) == 0
            made[name] = {**failing, "html": html, "baseline": good["doc"]}
            return made[name]
        raise KeyError(name)
    return get


# -- the reports of real runs ------------------------------------------------------

def test_all_pass_report(runs):
    r = runs("all-pass")
    html = r["html"].read_text()
    page = Page(html)
    assert page.texts["big"].strip() == "CONFORMANT (MUST requirements)"
    check_matrix(page, r["doc"])
    check_self_contained(html, page)
    # header facts
    for text in ("embedded mock (process.mof, software_inventory.mof)", "root/interop",
                 "wbemconform-mock", "wmi (auto:", r["doc"]["started"], "0.1.0"):
        assert text in html, text
    # columns: the target, each profile, each association (variants are rows)
    assert ">Process 1.0<" in html and ">Software Inventory 1.0.1<" in html
    assert "Microsoft_Process_ElementConformsToProfile_v1" in html
    assert "&#8627; property-based" in html
    # the pytest run says where the report is, after the results line
    lines = r["stdout"].splitlines()
    assert f"report: {r['html']}" in lines
    assert lines.index(f"report: {r['html']}") == lines.index(f"results: {r['json']}") + 1
    # the plugin's report is the one `wbemconform report` makes of the JSON
    assert render_report(r["doc"]) == html


def test_failing_report(runs):
    r = runs("failing")
    doc, html = r["doc"], r["html"].read_text()
    page = Page(html)
    n = len(doc["gate"]["failures"])
    assert n >= 2
    assert page.texts["big"].strip() == f"NOT CONFORMANT: {n} MUST failures"
    check_matrix(page, doc)
    check_self_contained(html, page)
    assert {"EC-3", "RC-4"} <= {rid for rid, req in doc["requirements"].items()
                                if req["verdict"] == "fail"}
    assert 'id="failures"' in html
    # a failing case: problems, evidence (operation, arguments, outcome, result), reproduce
    failing = [c for c in page.cells if c["v"] == "fail"]
    for cell in failing:
        anchor = cell["href"][1:]
        block = html[html.index(f'id="{anchor}"'):]
        block = block[:block.index("</div>\n", block.index('class="repro"'))]
        _, attrs = page.by_id[anchor]
        rec = doc["requirements"][attrs["data-req"]]["subjects"][attrs["data-subject"]]
        assert "<b>Evidence</b>" in block
        ev = rec["evidence"][0]
        assert f'<td class="mono">{ev["operation"]}</td>' in block
        assert f'class="o-{ev["outcome"]}"' in block
        # the embedded mock has no server for pywbemcli: the one pytest test
        # ... with the MOF's path as given, made absolute (options as data)
        assert "pytest " in block and f"--wbem-mock-mof {FAILING_MOF}" in block
        assert rec["test"].split("::")[1].split("[")[0] in block


def test_waived_failure_report(runs):
    r = runs("waived")
    doc, html = r["doc"], r["html"].read_text()
    page = Page(html)
    check_matrix(page, doc)
    check_self_contained(html, page)
    assert doc["counts"]["waived"] == 1
    waived = [c for c in page.cells if c["v"] == "waived"]
    assert len(waived) == 1 and waived[0]["href"].startswith("#d-EC-3-")
    block = html[html.index(f'id="{waived[0]["href"][1:]}"'):]
    assert "<b>Waived</b> until 2099-12-31. Reason: qualifier lands in release 2" in block
    # the expired waiver is flagged where it applied and in the waiver table
    assert "<b>Waiver EXPIRED</b> on 2020-01-01: this failure counts again." in html
    assert "EXPIRED: its failures count again" in html
    assert re.search(r'<a href="#d-RC-4-[^"]+" title="[^"]*\(waiver expired\)[^"]*">FAIL\*</a>',
                     html)
    assert "1 expired waiver" in html and "1 waived failure" in html
    # RC-4's waiver expired: still not conformant, EC-3 no longer counts
    assert page.texts["big"].strip() == \
        f"NOT CONFORMANT: {len(doc['gate']['failures'])} MUST failures"


def test_baseline_diff(runs):
    r = runs("baseline-diff")
    doc, base, html = r["doc"], r["baseline"], r["html"].read_text()
    page = Page(html)
    check_matrix(page, doc)
    check_self_contained(html, page)
    # at the top: before the failure list and the matrix
    assert html.index('id="baseline"') < html.index('id="failures"') < html.index('id="mx"')
    regressed = {(f["requirement"], f["subject"]) for f in doc["gate"]["failures"]}
    shown = set(re.findall(r'<tr><td>([A-Z]+-\d+)</td><td><a href="#[^"]+">([^<]+)</a>',
                           section(html, "diff-regressed")))
    assert {(rid, label.replace("&gt;", ">")) for rid, label in shown} == regressed
    assert f"<b>{len(regressed)}</b> regressed" in html
    assert "<b>0</b> fixed" in html and "<b>0</b> new" in html
    # the other way round: the same failures are fixed
    fixed = render_report(base, baseline=doc)
    assert f"<b>{len(regressed)}</b> fixed" in fixed and "<b>0</b> regressed" in fixed
    # subjects and requirements not in the baseline are new
    old = copy.deepcopy(base)
    del old["requirements"]["TR-1"]
    label = next(iter(old["requirements"]["TR-2"]["subjects"]))
    del old["requirements"]["TR-2"]["subjects"][label]
    newer = render_report(doc, baseline=old)
    new = section(newer, "diff-new")
    assert "<td>TR-2</td><td><a href=" in new and "<td>TR-1</td>" in new
    assert "requirements new since then: TR-1" in newer


def section(html, id_):
    start = html.index(f'id="{id_}"')
    return html[start:html.index("</details>", start)]


# -- secrets -------------------------------------------------------------------------

def _assert_no_secret(secrets, *texts):
    for text in texts:
        for s in secrets:
            assert s not in text


def test_password_never_in_report_json_junit_or_output(pytester, tmp_path, monkeypatch):
    monkeypatch.setenv("WBEM_PASSWORD", "SECRET2")
    secrets = ("SECRET", "SECRET2", "SECRET3")

    def run(url, *extra):
        html, js, junit = tmp_path / "r.html", tmp_path / "r.json", tmp_path / "j.xml"
        for p in (html, js, junit):
            p.unlink(missing_ok=True)
        result = pytester.runpytest_subprocess(
            str(SUITES), "-p", "no:cacheprovider", "--rootdir", str(REPO),
            "-c", str(REPO / "pyproject.toml"), "--wbem-url", url, *extra,
            "--conformance-report", str(html), "--conformance-json", str(js),
            "--junitxml", str(junit))
        assert result.ret != 0
        out = result.stdout.str() + result.stderr.str()
        assert f"report: {html}" in out
        texts = [html.read_text(), js.read_text(), junit.read_text(), out]
        _assert_no_secret(secrets, *texts)
        return texts

    # the target is down: the setup error (with the URL) is in the report
    port = closed_port()
    report, *_ = run(f"http://user:SECRET@127.0.0.1:{port}")
    assert "ABORTED: no conformance verdict" in report
    assert f"http://127.0.0.1:{port}" in report
    # a failed authentication (HTTP 401), password given by option as well
    with fake_server("401") as url:
        report, *_ = run(url.replace("http://", "http://user:SECRET@"),
                         "--wbem-user", "user", "--wbem-password", "SECRET3")
    assert "401" in report


def test_report_only_option_writes_the_report_without_json(tmp_path):
    html = tmp_path / "only.html"
    res = run_suites("--conformance-report", html, "-k", "forward_traversal")
    assert res.returncode == 2, res.stdout[-2000:]  # -k: a partial run is aborted
    assert f"report: {html}" in res.stdout.splitlines()
    page = Page(html.read_text())
    assert page.texts["big"].strip() == "ABORTED: no conformance verdict"
    assert "a partial run is no conformance verdict" in html.read_text()
    assert {c["v"] for c in page.cells} == {"pass"}


# -- units -------------------------------------------------------------------------------

def _doc(**subjects_of):
    """A minimal results document: requirement id -> {subject: record}."""
    reqs = {}
    for rid, subjects in subjects_of.items():
        reqs[rid] = {"level": "MUST", "flavor": "dmtf", "subject": "association",
                     "group": rid.split("-")[0], "statement": f"statement of {rid}",
                     "source": "WMI step 2", "verdict": "fail", "subjects": subjects}
    counts = Counter(effective(r) for s in subjects_of.values() for r in s.values())
    return {"schema": 1, "tool": "wbemconform", "suite_version": "0.1.0",
            "target": "https://srv.example:5989", "flavor": "wmi", "flavor_reason": "auto",
            "interop_namespace": "root/interop", "server": {}, "started": "2026-01-01T00:00:00",
            "duration_seconds": 1.0, "setup_error": None, "load_failures": [],
            "counts": {k: counts.get(k, 0) for k in
                       ("pass", "fail", "error", "skip", "not-applicable", "waived")},
            "gate": {"passed": False, "failures": []}, "requirements": reqs, "waivers": [],
            "operations": {}, "options": {}}


def test_pywbemcli_commands_for_url_targets():
    url = "https://srv:5989"
    path = 'root/interop:ZooProcessProfile.InstanceID="Zoo:Process"'
    cases = [
        # a list-returning operation says --use-pull: "no" for the classic one,
        # "yes" for the pull one (pywbemcli's default picks pull where it can)
        ({"operation": "AssociatorNames", "arguments": {
            "arg0": path, "AssocClass": "X_ECTP", "ResultClass": "Win32_Process"}},
         (f"pywbemcli -s {url} --use-pull no instance associators '{path}' --ac X_ECTP "
          "--rc Win32_Process --names-only")),
        ({"operation": "OpenAssociatorInstancePaths", "arguments": {
            "arg0": path, "AssocClass": "X_ECTP", "ResultClass": "Win32_Process",
            "MaxObjectCount": 1000}},
         (f"pywbemcli -s {url} --use-pull yes instance associators '{path}' --ac X_ECTP "
          "--rc Win32_Process --names-only")),
        ({"operation": "References", "arguments": {"arg0": path, "ResultClass": "X_ECTP",
                                                   "Role": "ConformantStandard"}},
         f"pywbemcli -s {url} --use-pull no instance references '{path}' --rc X_ECTP "
         "-r ConformantStandard"),
        ({"operation": "OpenReferenceInstancePaths", "arguments": {"arg0": path,
                                                                   "Role": "X"}},
         f"pywbemcli -s {url} --use-pull yes instance references '{path}' -r X --names-only"),
        # one object: no pull counterpart; a path's namespace is where it goes
        ({"operation": "GetInstance", "arguments": {"arg0": path}},
         f"pywbemcli -s {url} instance get '{path}'"),
        # a path without a namespace goes to the connection's: the interop namespace
        ({"operation": "GetInstance", "arguments": {"arg0": 'P.InstanceID="p"'}},
         f"pywbemcli -s {url} instance get 'P.InstanceID=\"p\"' --namespace root/interop"),
        ({"operation": "EnumerateInstances", "arguments": {
            "arg0": "CIM_RegisteredProfile", "namespace": "root/interop",
            "DeepInheritance": True}},
         f"pywbemcli -s {url} --use-pull no instance enumerate CIM_RegisteredProfile --di "
         "--namespace root/interop"),
        ({"operation": "EnumerateInstanceNames", "arguments": {
            "arg0": "X_ECTP", "namespace": "root/cimv2"}},
         f"pywbemcli -s {url} --use-pull no instance enumerate X_ECTP --names-only "
         "--namespace root/cimv2"),
        ({"operation": "OpenEnumerateInstancePaths", "arguments": {
            "arg0": "X_ECTP", "namespace": "root/cimv2", "MaxObjectCount": 1000}},
         f"pywbemcli -s {url} --use-pull yes instance enumerate X_ECTP --names-only "
         "--namespace root/cimv2"),
        ({"operation": "GetClass", "arguments": {
            "arg0": "X_ECTP", "namespace": "root/interop", "LocalOnly": False,
            "IncludeQualifiers": True}},
         f"pywbemcli -s {url} class get X_ECTP --namespace root/interop"),
        ({"operation": "EnumerateClassNames", "arguments": {
            "namespace": "root/interop", "ClassName": "CIM_ElementConformsToProfile",
            "DeepInheritance": True}},
         f"pywbemcli -s {url} class enumerate CIM_ElementConformsToProfile --names-only --di "
         "--namespace root/interop"),
        ({"operation": "InvokeMethod", "arguments": {"arg0": "GetCentralInstances",
                                                     "arg1": path}},
         f"pywbemcli -s {url} instance invokemethod '{path}' GetCentralInstances"),
        # pywbemcli's instance query fails on pywbem's IterQueryInstances answer
        ({"operation": "ExecQuery", "arguments": {
            "arg0": "WQL", "arg1": "SELECT * FROM X_ECTP", "namespace": "root/cimv2"}}, None),
        ({"operation": "CreateInstance", "arguments": {"arg0": "instance of X {...}"}}, None),
        ({"operation": "PullInstancePaths", "arguments": {"arg0": "ctx"}}, None),
    ]
    for evidence, expected in cases:
        assert pywbemcli_command(url, evidence) == expected
    # the run's user (pywbemcli asks for the password), TLS options and interop
    # namespace; never a password, not even one in the URL
    options = {"--wbem-url": url, "--wbem-user": "op", "--wbem-ca-certs": "/ca.pem",
               "--wbem-interop-namespace": "interop"}
    assert pywbemcli_command("https://op:s3cret@srv:5989", {
        "operation": "GetInstance", "arguments": {"arg0": 'P.InstanceID="p"'}}, options) == \
        (f"pywbemcli -s {url} -u op --ca-certs /ca.pem instance get 'P.InstanceID=\"p\"' "
         "--namespace interop")
    assert "--no-verify" in pywbemcli_command(url, cases[0][0], {"--wbem-no-verify": True})


def test_url_target_report_has_pywbemcli_reproduction_and_caps_evidence():
    path = 'root/interop:P.InstanceID="p"'
    evidence = [{"operation": "AssociatorNames",
                 "arguments": {"arg0": path, "AssocClass": "X_ECTP", "ResultClass": f"C{i}"},
                 "outcome": "ok", "result": "0 object(s): []"} for i in range(MAX_EVIDENCE + 7)]
    doc = _doc(**{"RC-1": {"P 1.0 -> root/cimv2:X_ECTP": {
        "verdict": "fail", "message": "ResultClass found nothing", "problems": ["p1", "p2"],
        "evidence": evidence, "test": "suites/test_traversal.py::test_rc[P 1.0]"}}})
    doc["target"] = "https://user:pw@srv.example:5989"  # a second line of defence
    html = render_report(doc)
    assert "user:pw" not in html
    assert ("pywbemcli -s https://srv.example:5989 --use-pull no instance associators "
            "&#39;root/interop:P.InstanceID=&#34;p&#34;&#39; --ac X_ECTP --rc C0 "
            "--names-only") in html
    assert "--wbem-url https://srv.example:5989" in html
    assert f"--rc C{MAX_EVIDENCE - 1} " in html and f"--rc C{MAX_EVIDENCE} " not in html
    assert "... and 7 more operations not shown" in html
    check_matrix(Page(html), doc)


def test_everything_from_the_server_is_escaped():
    evil = '<img src=x onerror="alert(1)">'
    doc = _doc(**{"EC-1": {f"P -> root/x:{evil}": {
        "verdict": "error", "message": "<script>alert(2)</script>",
        "evidence": [{"operation": "GetClass", "arguments": {"arg0": evil}, "outcome": "ok",
                      "result": "</pre><script>alert(3)</script>"}]}}})
    html = render_report(doc)
    page = Page(html)
    assert "alert(1)" not in "".join(src for _, src in page.loads)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert page.tags["script"] == 1 and page.tags["img"] == 0
    check_matrix(page, doc)


def test_wrong_documents_are_refused_with_one_line():
    for bad, words in [([], "a JSON list"), ({"schema": 2, "requirements": {}}, "schema 2"),
                       ({"tool": "other", "schema": 1}, "not a wbemconform"),
                       ({"schema": 1}, "\"requirements\""),
                       ({"schema": 1, "requirements": {"X-1": {"subjects": {
                           "t": {"verdict": "maybe"}}}}}, "valid verdict")]:
        with pytest.raises(ReportError) as exc:
            validate_document(bad, "r.json")
        assert str(exc.value).startswith("r.json: ") and words in str(exc.value)
        assert "\n" not in str(exc.value)


def test_cli_report_default_output_and_errors(tmp_path, capsys):
    doc = _doc(**{"EC-1": {"P -> root/x:X": {"verdict": "pass", "message": ""}}})
    results = tmp_path / "results.json"
    results.write_text(json.dumps(doc))
    assert cli.main(["report", str(results)]) == 0
    assert (tmp_path / "results.html").is_file()
    assert capsys.readouterr().out.strip() == f"report: {tmp_path / 'results.html'}"
    out = tmp_path / "sub" / "x.html"
    assert cli.main(["report", str(results), "-o", str(out), "--baseline", str(results)]) == 0
    assert "Changes since the baseline" in out.read_text()
    capsys.readouterr()

    notjson = tmp_path / "notjson.json"
    notjson.write_text("{nope")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"schema": 99, "requirements": {}}))
    for argv, name in [(["report", str(tmp_path / "missing.json")], "missing.json"),
                       (["report", str(notjson)], "notjson.json"),
                       (["report", str(wrong)], "wrong.json"),
                       (["report", str(results), "--baseline", str(notjson)], "notjson.json"),
                       (["report", str(tmp_path)], str(tmp_path))]:
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
        assert name in err and "Traceback" not in err


def test_cli_is_installed_as_a_command(tmp_path):
    exe = Path(sys.executable).with_name("wbemconform")
    if not exe.exists():
        pytest.skip(f"the wbemconform command is not installed beside {sys.executable} "
                    "(pip install -e .)")
    res = subprocess.run([str(exe), "report", str(tmp_path / "none.json")],
                         check=False, capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.strip() == f"wbemconform: error: {tmp_path / 'none.json'}: no such file"


def test_write_report_creates_folders(tmp_path):
    doc = _doc(**{"EC-1": {"P -> root/x:X": {"verdict": "pass", "message": ""}}})
    path = write_report(doc, tmp_path / "a" / "b" / "r.html")
    assert path.read_text().startswith("<!DOCTYPE html>")


# -- in a real browser --------------------------------------------------------------

PROBE = """
<script>
(function () {
  var r = {}, q = function (s) { return document.querySelector(s); };
  var shown = function () {
    return Array.prototype.filter.call(document.querySelectorAll("#mx tbody.req"),
                                       function (tb) { return !tb.hidden; }).length;
  };
  r.verdictBottom = document.getElementById("verdict").getBoundingClientRect().bottom;
  r.countsBottom = q(".counts").getBoundingClientRect().bottom;
  r.viewport = window.innerHeight;
  r.shownAll = shown();
  q('[data-only="fail error"]').click();
  r.shownFailing = shown();
  q('[data-only="all"]').click();
  q('input[data-f="l"][value="MUST"]').click();
  r.shownNotMust = shown();
  q('input[data-f="l"][value="MUST"]').click();
  q('th.sort[data-sort="verdict"] button').click();
  r.firstAfterSort = q("#mx tbody.req").dataset.id;
  document.body.setAttribute("data-probe", JSON.stringify(r));
})();
</script>
"""


def chromium(*args, tmp_path):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'chromium-profile'}",
           "--hide-scrollbars", "--window-size=1400,900", *args]
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package "
                    "'chromium': apt-get install -y chromium); the browser check needs it")
@pytest.mark.parametrize("name", ["all-pass", "failing", "waived", "baseline-diff"])
def test_report_in_headless_chromium(runs, name, tmp_path):
    r = runs(name)
    doc = r["doc"]
    html = r["html"].read_text()
    probe = tmp_path / f"{name}.probe.html"
    probe.write_text(html.replace("</body>", PROBE + "</body>"))
    dom = chromium("--dump-dom", probe.as_uri(), tmp_path=tmp_path)
    page = Page(dom)
    # the DOM after the page's script: a cell per record, failing cells link to evidence
    check_matrix(page, doc)
    assert "data-probe" in page.body, "the page's script did not run"
    p = json.loads(page.body["data-probe"])
    n_reqs = len(doc["requirements"])
    assert p["shownAll"] == n_reqs
    failing_reqs = {rid for rid, req in doc["requirements"].items()
                    if any(effective(s) in FAILING for s in req["subjects"].values())}
    assert p["shownFailing"] == len(failing_reqs)
    assert p["shownNotMust"] == sum(1 for req in doc["requirements"].values()
                                    if req["level"] != "MUST")
    worst = min(RANK[req["verdict"]] for req in doc["requirements"].values())
    assert RANK[doc["requirements"][p["firstAfterSort"]]["verdict"]] == worst
    # the verdict and the counts are above the fold of a 1400x900 window
    assert p["verdictBottom"] < p["viewport"] and p["countsBottom"] < p["viewport"], p

    # the screenshots go to the test's own folder (WBEMCONFORM_SCREENSHOTS: keep
    # them there instead), never into the repository's reports/
    folder = Path(os.environ.get("WBEMCONFORM_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / f"report-{name}.png"
    shot.unlink(missing_ok=True)
    chromium(f"--screenshot={shot}", r["html"].as_uri(), tmp_path=tmp_path)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1400, 900)
    shutil.copy(r["html"], folder / f"report-{name}.html")
