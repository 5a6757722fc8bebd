"""The topology picture (issue 22, item 2) and the report's layout (item 5).

* the JSON's ``topology`` block, from real runs of zoo entries (a profile
  graph, a one-way association, a dangling reference);
* the SVG, drawn from it: a node per profile and association class, an
  arrowhead per working direction, red for one-way and failing links,
  aggregation past the caps (10,000 elements in many classes), and -- by the
  same character-width estimate it lays out with -- no two texts overlapping;
* ``wbemconform topology``;
* headless Chromium (where Debian's chromium is installed): the report of the
  default mock, of a 20-profile x 10-association-class topology and of a
  10,000-element one, each with its picture, every text box measured by the
  browser (no two overlap, none leaves its node, none is wider than the
  estimate), and the layout points at 800, 1400 and 2000 px: the gate list
  is not cut, the matrix takes the page's width, rotated headers and
  evidence cells break no word, the statement column is readable, the
  flavor line is the requirement's, the header shows the whole target; and
  a screenshot of each (PNG, the window's size, not blank).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import zoo

from wbemconform import cli
from wbemconform.report import render_report
from wbemconform.runner import run_session
from wbemconform.topology_svg import CHAR_WIDTH, MAX_ASSOCIATIONS, MAX_PROFILES, render_svg

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists(
    "/usr/bin/chromium") else None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian package 'chromium'); "
    "the browser checks need it")


def run_doc(name):
    """The results document of a whole run on a zoo entry (in-process)."""
    session = run_session(zoo.options(name))
    return json.loads(json.dumps(session.document(), default=str))


# -- synthetic documents (big topologies without running a check) ---------------------

def synthetic(n_profiles, n_assocs, elements, classes_per_assoc=2, namespaces=3,
              one_way=(), failing=(), references=True):
    """A results document with a topology block: association k links profiles
    k, k + n_assocs, ...; ``elements`` elements spread over its classes;
    TR-1/TR-2 verdicts from ``one_way`` (TR-2 fails) and ``failing`` (both)."""
    profiles = [{"label": f"Synthetic Profile {i} 1.0.{i % 3}", "name": f"Synthetic Profile {i}",
                 "version": f"1.0.{i % 3}", "organization": "DMTF" if i % 2 else "Contoso"}
                for i in range(n_profiles)]
    per_assoc = max(1, elements // n_assocs)
    assocs, tr1, tr2 = [], {}, {}
    for k in range(n_assocs):
        mine = list(range(k, n_profiles, n_assocs))
        ns = f"root/impl{k % namespaces}"
        cls = f"Contoso_Synthetic{k}_ElementConformsToProfile_v1"
        label = f"{profiles[mine[0]]['label'] if mine else '?'} -> {ns}:{cls}"
        counts = [per_assoc // classes_per_assoc] * classes_per_assoc
        counts[0] += per_assoc - sum(counts)
        assocs.append({
            "label": label, "class": cls, "namespaces": ["root/interop", ns],
            "element_namespaces": [ns], "links": per_assoc, "element_side_links": 0,
            "profiles": [{"profile": p, "links": per_assoc // max(1, len(mine))} for p in mine],
            "elements": [{"namespace": ns, "class": f"Contoso_Element{k}_{c}", "count": n}
                         for c, n in enumerate(counts)]})
        tr1[label] = {"verdict": "fail" if k in failing else "pass", "message": ""}
        tr2[label] = {"verdict": "fail" if k in failing or k in one_way else "pass",
                      "message": ""}
    refs = [{"antecedent": i - i % 5, "dependent": i, "class": "CIM_ReferencedProfile",
             "subprofile": i % 2 == 0} for i in range(n_profiles) if i % 5] \
        if references else []
    reqs = {"TR-1": {"level": "MUST", "subject": "association", "group": "TR",
                     "statement": "forward", "subjects": tr1},
            "TR-2": {"level": "MUST", "subject": "association", "group": "TR",
                     "statement": "reverse", "subjects": tr2},
            "RP-2": {"level": "MUST", "subject": "profile", "group": "RP", "statement": "p",
                     "subjects": {p["label"]: {"verdict": "pass", "message": ""}
                                  for p in profiles}}}
    return {"schema": 1, "tool": "wbemconform", "target": "synthetic", "requirements": reqs,
            "counts": {}, "gate": {"status": "passed"},
            "topology": {"version": 1, "interop_namespace": "root/interop",
                         "profiles": profiles, "references": refs, "associations": assocs}}


# -- parsing the SVG (its texts and boxes as laid out) ---------------------------------

_TEXT = re.compile(r'<text x="([\d.]+)" y="([\d.]+)" font-size="([\d.]+)"[^>]*'
                   r'text-anchor="start"[^>]*>([^<]*)</text>')


def texts(svg):
    """[(x0, y0, x1, y1, text)] by the layout's own estimate (monospace)."""
    import html
    out = []
    for x, y, size, text in _TEXT.findall(svg):
        x, y, size, text = float(x), float(y), float(size), html.unescape(text)
        out.append((x, y - size, x + len(text) * size * CHAR_WIDTH, y + size * 0.25, text))
    return out


def overlaps(boxes):
    bad = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5:
                bad.append((a[-1], b[-1]))
    return bad


def kinds(svg):
    return [m for m in re.findall(r'class="node" data-kind="([a-z]+)"', svg)]


# -- the topology block of real runs -----------------------------------------------------

def test_topology_block_of_the_default_mock_and_of_zoo_entries():
    doc = run_doc("good-dmtf-profile-graph")
    topo = doc["topology"]
    assert topo["interop_namespace"] == doc["interop_namespace"]
    labels = {p["label"] for p in topo["profiles"]}
    # every profile subject of the records is a node of the picture
    subjects = {s for s in doc["requirements"]["RP-2"]["subjects"]}
    assert subjects <= labels
    assert topo["references"], "the profile graph of this entry has references"
    for r in topo["references"]:
        assert 0 <= r["antecedent"] < len(topo["profiles"])
        assert 0 <= r["dependent"] < len(topo["profiles"])
    for a in topo["associations"]:
        assert a["label"] in doc["requirements"]["TR-1"]["subjects"]
        assert sum(e["count"] for e in a["elements"]) == a["links"]

    one_way = run_doc("element-side-only-association")
    assert any(a["element_side_links"] for a in one_way["topology"]["associations"])
    svg = render_svg(one_way)
    assert 'data-state="one-way"' in svg or 'data-state="failing"' in svg

    dangling = run_doc("referenced-profile-dangling")
    assert any(p.get("registered") is False for p in dangling["topology"]["profiles"])
    assert 'data-kind="dangling"' in render_svg(dangling)


def test_no_topology_before_discovery():
    doc = synthetic(2, 1, 4)
    doc["topology"] = None
    assert render_svg(doc) == ""
    assert 'id="topology"' not in render_report(doc)


# -- the SVG -----------------------------------------------------------------------------

def test_svg_of_20_profiles_and_10_association_classes():
    doc = synthetic(20, 10, 200, one_way={3}, failing={7})
    svg = render_svg(doc)
    k = kinds(svg)
    assert k.count("profile") == 20 and k.count("association") == 10 and "more" not in k
    assert k.count("element") == 20
    assert int(re.search(r'width="(\d+)"', svg).group(1)) <= 1360, "fits a 1400 px page"
    states = re.findall(r'class="edge" data-state="([a-z-]+)"', svg)
    assert {"ok", "one-way", "failing"} <= set(states)
    # one-way: the red edge keeps the arrowhead of the direction that works only
    one = re.search(r'data-state="one-way"[^>]*>', svg).group(0)
    assert 'marker-end="url(#tm-one-way)"' in one and "marker-start" not in one
    ok = re.search(r'data-state="ok"[^>]*>', svg).group(0)
    assert "marker-end" in ok and "marker-start" in ok
    assert len(re.findall(r'class="ref"', svg)) == 16  # the profile graph, beside them
    assert not overlaps(texts(svg))


def test_svg_of_10000_elements_is_aggregated():
    doc = synthetic(60, 120, 10_000, classes_per_assoc=30, namespaces=12)
    svg = render_svg(doc)
    k = kinds(svg)
    assert k.count("profile") == MAX_PROFILES - 1 and k.count("association") == \
        MAX_ASSOCIATIONS - 1
    assert k.count("more") >= 3  # profiles, associations, element classes / namespaces
    assert "+31 more profiles" in svg and "+91 more associations" in svg
    assert "more namespaces" in svg
    # every element is counted somewhere: shown rows and "+N more" rows add up
    counted = sum(int(n) for n in re.findall(r'data-count="(\d+)"', svg))
    assert counted == sum(e["count"] for a in doc["topology"]["associations"]
                          for e in a["elements"]) == 10_000 - 10_000 % 120
    assert len(svg) < 400_000 and svg.count("<text") < 600
    assert not overlaps(texts(svg))


def test_long_names_are_shortened_with_the_whole_name_as_tooltip():
    doc = synthetic(2, 1, 4)
    long = "Contoso_" + "VeryLong" * 12 + "_ElementConformsToProfile_v1"
    doc["topology"]["associations"][0]["class"] = long
    svg = render_svg(doc)
    assert f"<title>{long}</title>" in svg
    assert not overlaps(texts(svg))
    assert all(len(t[-1]) <= 64 for t in texts(svg) if "VeryLong" in t[-1])


def test_names_from_the_server_are_escaped():
    doc = synthetic(2, 1, 4)
    doc["topology"]["profiles"][0]["label"] = "<script>alert(1)</script> & co"
    svg = render_svg(doc)
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_topology_command(tmp_path, capsys):
    doc = synthetic(3, 2, 10)
    src = tmp_path / "r.json"
    src.write_text(json.dumps(doc))
    out = tmp_path / "deep" / "t.svg"
    assert cli.main(["topology", "--from", str(src), "-o", str(out)]) == 0
    assert out.read_text().startswith("<svg") and "topology: " in capsys.readouterr().out
    doc["topology"] = None
    src.write_text(json.dumps(doc))
    assert cli.main(["topology", "--from", str(src)]) == 2
    assert "hold no topology" in capsys.readouterr().err
    assert cli.main(["topology", "--from", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: no such file" in capsys.readouterr().err


# -- headless Chromium: the report as a browser lays it out -----------------------------

PROBE = r"""
<script>
(function () {
  var r = {}, all = function (s, root) { return Array.prototype.slice.call((root || document).querySelectorAll(s)); };
  var box = function (e) { var b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
  var inside = function (a, b) { return a[0] >= b[0] - 0.5 && a[1] >= b[1] - 0.5 && a[2] <= b[2] + 0.5 && a[3] <= b[3] + 0.5; };
  // words a browser broke across lines: a word (between spaces, in one text node) with more than one line box
  var broken = function (els) {
    var out = [];
    els.forEach(function (el) {
      var walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), n;
      while ((n = walk.nextNode())) {
        var re = /\S+/g, m;
        while ((m = re.exec(n.data))) {
          var rg = document.createRange(); rg.setStart(n, m.index); rg.setEnd(n, m.index + m[0].length);
          var lines = {}; Array.prototype.forEach.call(rg.getClientRects(), function (q) { if (q.width > 0) lines[Math.round(q.left) + ":" + Math.round(q.top)] = 1; });
          if (Object.keys(lines).length > 1) out.push(m[0]);
        }
      }
    });
    return out;
  };
  var svg = document.querySelector("#topology svg.topology");
  r.svg = !!svg;
  if (svg) {
    r.svgWidth = svg.getBoundingClientRect().width; r.svgAttrWidth = +svg.getAttribute("width");
    r.kinds = {}; all("g.node", svg).forEach(function (g) { var k = g.dataset.kind; r.kinds[k] = (r.kinds[k] || 0) + 1; });
    r.nodeLabels = all('g.node[data-kind="profile"], g.node[data-kind="association"]', svg).map(function (g) { return g.dataset.label; });
    var texts = all("text", svg), boxes = texts.map(box);
    r.texts = texts.length; r.overlaps = []; r.cut = []; r.tooWide = []; r.small = [];
    for (var i = 0; i < boxes.length; i++) {
      for (var j = i + 1; j < boxes.length; j++) {
        var a = boxes[i], b = boxes[j];
        if (a[0] < b[2] - 0.5 && b[0] < a[2] - 0.5 && a[1] < b[3] - 0.5 && b[1] < a[3] - 0.5) r.overlaps.push([texts[i].textContent, texts[j].textContent]);
      }
      var t = texts[i], size = parseFloat(t.getAttribute("font-size"));
      if (t.getComputedTextLength() > t.textContent.length * size * %(cw)s + 0.5) r.tooWide.push(t.textContent);
      if (parseFloat(getComputedStyle(t).fontSize) < 10) r.small.push(t.textContent);
      var holder = t.closest("g.node, g.nsgroup");
      if (holder && !inside(boxes[i], box(holder.querySelector("rect")))) r.cut.push(t.textContent);
      if (!inside(boxes[i], box(svg))) r.cut.push(t.textContent);
    }
  }
  // the layout points (issue 22, item 5)
  r.failCut = all(".fail-list li").filter(function (li) { var s = getComputedStyle(li); return s.textOverflow === "ellipsis" || li.scrollWidth > li.clientWidth + 1; }).length;
  r.failItems = all(".fail-list li").length;
  var mx = document.getElementById("mx"), wrap = document.querySelector(".mwrap");
  r.matrixWidth = mx.getBoundingClientRect().width; r.wrapWidth = wrap.clientWidth;
  r.wrapScrollsDown = wrap.scrollHeight > wrap.clientHeight + 1 && getComputedStyle(wrap).overflowY !== "visible";
  r.brokenHeaders = broken(all("#mx th.col div"));
  r.brokenEvidence = broken(all("table.ev th, table.ev td:nth-child(2), table.ev td:nth-child(4)"));
  r.evidenceCells = all("table.ev td").length;
  var st = all("#mx tbody.req td.s3");
  r.statementWidth = Math.min.apply(null, st.map(function (td) { return td.getBoundingClientRect().width; }));
  r.rowHeight = Math.max.apply(null, all("#mx tbody.req tr").map(function (tr) { return tr.getBoundingClientRect().height; }));
  var tool = document.querySelector(".verdict .tool");
  r.toolCut = tool.scrollWidth > tool.clientWidth + 1 || getComputedStyle(tool).textOverflow === "ellipsis";
  r.toolText = tool.textContent;
  r.src = all("details.rq .src").map(function (p) { return p.textContent; });
  document.body.setAttribute("data-probe", JSON.stringify(r));
})();
</script>
""".replace("%(cw)s", str(CHAR_WIDTH))


def chromium(*args, tmp_path, width=1400, height=1000):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'chromium-profile'}",
           "--hide-scrollbars", f"--window-size={width},{height}", *args]
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


def probe(html, tmp_path, width, name):
    page = tmp_path / f"{name}-{width}.probe.html"
    page.write_text(html.replace("</body>", PROBE + "</body>"))
    dom = chromium("--dump-dom", page.as_uri(), tmp_path=tmp_path, width=width)
    m = re.search(r'data-probe="([^"]*)"', dom)
    assert m, "the probe did not run"
    import html as html_mod
    return json.loads(html_mod.unescape(m.group(1)))


def screenshot(html_path, tmp_path, width, name):
    """A screenshot (PNG of the window's size, not blank) in the test's folder
    (WBEMCONFORM_SCREENSHOTS: there instead)."""
    folder = Path(os.environ.get("WBEMCONFORM_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / f"{name}-{width}.png"
    shot.unlink(missing_ok=True)
    chromium(f"--screenshot={shot}", html_path.as_uri(), tmp_path=tmp_path, width=width,
             height=1600)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (width, 1600)
    idat, pos = b"", 8
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    assert len(set(zlib.decompress(idat)[:2_000_000])) > 20, "a blank screenshot"


def check_picture(p, doc):
    topo = doc["topology"]
    assert p["svg"], "the report has no topology picture"
    assert p["svgWidth"] == pytest.approx(p["svgAttrWidth"], abs=1), "the picture is scaled"
    n_p = min(len(topo["profiles"]), MAX_PROFILES)
    n_a = min(len(topo["associations"]), MAX_ASSOCIATIONS)
    aggregated_p = len(topo["profiles"]) > MAX_PROFILES
    aggregated_a = len(topo["associations"]) > MAX_ASSOCIATIONS
    assert p["kinds"].get("profile", 0) == n_p - aggregated_p
    assert p["kinds"].get("association", 0) == n_a - aggregated_a
    if not (aggregated_p or aggregated_a):  # a node per profile and association class
        want = {x["label"] for x in topo["profiles"]} | {a["label"] for a in topo["associations"]}
        assert set(p["nodeLabels"]) == want
    assert p["texts"] > 0
    assert p["overlaps"] == [], p["overlaps"][:5]
    assert p["cut"] == [], p["cut"][:5]
    assert p["tooWide"] == [], p["tooWide"][:5]
    assert p["small"] == []


def check_layout(p, width):
    assert p["failCut"] == 0
    # the matrix takes the page's width, in no vertical scroll box of its own
    assert p["matrixWidth"] >= p["wrapWidth"] - 2
    assert not p["wrapScrollsDown"]
    assert p["brokenHeaders"] == [], p["brokenHeaders"][:5]
    assert p["brokenEvidence"] == [], p["brokenEvidence"][:5]
    assert p["statementWidth"] >= (250 if width < 1000 else 320)
    assert p["rowHeight"] <= 80, "a statement row is taller than 3 lines and a variant"
    assert not p["toolCut"]
    assert p["src"] and all("flavor: " not in s and "requirement for" in s for s in p["src"])


@pytest.fixture(scope="module")
def mock_run(tmp_path_factory):
    """The default mock's results and report, by `wbemconform check` (a subprocess)."""
    out = tmp_path_factory.mktemp("mock")
    js, html = out / "mock.json", out / "mock.html"
    exe = Path(sys.executable).with_name("wbemconform")
    res = subprocess.run([str(exe), "check", "--conformance-json", str(js),
                          "--conformance-report", str(html)], cwd=out, capture_output=True,
                         text=True, timeout=600, check=False)
    assert html.is_file(), res.stdout[-3000:] + res.stderr[-3000:]
    return json.loads(js.read_text()), html


@needs_chromium
@pytest.mark.parametrize("width", [800, 1400, 2000])
def test_default_mock_report_in_chromium(mock_run, tmp_path, width):
    doc, html = mock_run
    p = probe(html.read_text(), tmp_path, width, "mock")
    check_picture(p, doc)
    check_layout(p, width)
    assert p["toolText"].count(doc["target"]) == 1
    if width != 2000:
        screenshot(html, tmp_path, width, "report-mock")


@needs_chromium
@pytest.mark.parametrize("width", [800, 1400, 2000])
def test_failing_report_layout_in_chromium(tmp_path, width):
    """A report with gate failures and evidence tables (a zoo entry that fails)."""
    doc = run_doc("element-side-only-association")
    html = render_report(doc)
    assert 'class="ev"' in html
    p = probe(html, tmp_path, width, "failing")
    assert p["failItems"] and p["evidenceCells"]
    check_layout(p, width)
    check_picture(p, doc)


@needs_chromium
@pytest.mark.parametrize("name, doc", [
    ("20x10", synthetic(20, 10, 200, one_way={3}, failing={7})),
    ("10000", synthetic(60, 120, 10_000, classes_per_assoc=30, namespaces=12)),
])
def test_big_topologies_in_chromium(tmp_path, name, doc):
    html = tmp_path / f"{name}.html"
    html.write_text(render_report(doc))
    p = probe(html.read_text(), tmp_path, 1400, name)
    check_picture(p, doc)
    assert p["svgWidth"] <= 1360, "readable at 1400 px without scrolling"
    screenshot(html, tmp_path, 1400, f"topology-{name}")
