"""The topology picture: one self-contained SVG drawn from a results
document's ``topology`` block (:mod:`wbemconform.topology_data`) and its
verdicts.

    svg = render_svg(doc)         # "" when the document has no topology

Left to right: the profile graph (CIM_ReferencedProfile and
CIM_SubProfileRequiresProfile as arcs beside the profiles), the registered
profiles of the interop namespace, the association classes with the
namespaces they are served in, and the element classes they reach, grouped
per namespace with counts. An association's edges carry an arrowhead per
direction that works (TR-1: from the profile to its elements; TR-2: back);
a direction that fails, or links only the element side returns, make the
edge red (one-way: the arrowhead of the working direction only; failing:
dashed, no arrowhead).

The layout is layered and computed here (no script): every text is
monospace and its width estimated with a conservative character width, so
no two texts overlap; a text longer than its column allows is shortened with
"..." and given whole in a <title>. Big targets are aggregated: past a cap,
a column ends in one "+N more" node that takes the edges of what it hides.
"""

from __future__ import annotations

import math
import re
from html import escape

__all__ = ["render_svg", "CHAR_WIDTH", "MAX_PROFILES", "MAX_ASSOCIATIONS", "MAX_ELEMENT_ROWS"]

FONT, SMALL = 12.0, 10.5
CHAR_WIDTH = 0.62  # em per character: DejaVu Sans Mono is 0.602, others a little wider
LINE = 16
PAD = 16
NODE_PAD = 10
NODE_H, NODE_GAP = 40, 8
ROW_H, ROW_GAP = 24, 4
GROUP_HEAD, GROUP_GAP = 26, 12
GAP = 96  # between columns: room for the edges
ARC_MAX = 130
MAX_PROFILES, MAX_ASSOCIATIONS, MAX_ELEMENT_ROWS, MAX_NAMESPACES = 30, 30, 36, 8
MAX_CHARS = {"profile": 40, "association": 56, "element": 44}
FAILING = ("fail", "error")
_RANK = {"error": 0, "fail": 1, "waived": 2, "pass": 3, "not-applicable": 4, "skip": 5}
_VARIANT = re.compile(r"^(.*\S) \[([^\[\]]+)\]$")
COLORS = {"ok": "#57606a", "one-way": "#cf222e", "failing": "#cf222e",
          "unchecked": "#afb8c1", "reference": "#8250df", "subprofile": "#8250df",
          "dangling": "#cf222e"}
NODE_COLORS = {"fail": ("#fff0ee", "#cf222e"), "error": ("#f7efff", "#8250df"),
               "pass": ("#f0fbf3", "#2da44e"), "waived": ("#eef4fb", "#57739b"),
               "not-applicable": ("#f6f8fa", "#8c959f"), "skip": ("#ffffff", "#8c959f")}


def text_width(text, size=FONT):
    """A conservative estimate of the text's width in px (monospace)."""
    return len(text) * size * CHAR_WIDTH


def _fit(text, limit):
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _worst(verdicts):
    return min(verdicts, key=_RANK.get) if verdicts else None


def _verdicts(doc):
    """{(requirement id, subject label without variant): [verdicts]}."""
    out = {}
    for rid, req in (doc.get("requirements") or {}).items():
        for label, rec in (req.get("subjects") or {}).items():
            m = _VARIANT.match(label)
            base = m.group(1) if m else label
            v = "waived" if rec.get("waived") else rec.get("verdict")
            out.setdefault((rid, base), []).append(v)
    return out


def _subject_verdict(verdicts, label):
    return _worst([v for (rid, base), vs in verdicts.items() if base == label for v in vs])


def _edge_state(verdicts, assoc):
    """ok / one-way / failing / unchecked, and which directions work."""
    fwd = _worst(verdicts.get(("TR-1", assoc["label"]), []))
    rev = _worst(verdicts.get(("TR-2", assoc["label"]), []))
    f_bad, r_bad = fwd in FAILING, rev in FAILING
    if assoc.get("element_side_links"):
        f_bad = True  # links no enumeration lists: reachable from the element side only
    if f_bad and r_bad:
        return "failing", False, False
    if f_bad or r_bad:
        return "one-way", not f_bad, not r_bad
    if fwd == "pass" or rev == "pass":
        return "ok", fwd == "pass", rev == "pass"
    return "unchecked", False, False


class _Svg:
    def __init__(self):
        self.parts = []

    def text(self, x, y, text, size=FONT, cls="", bold=False, full=None, anchor="start"):
        shown = escape(text)
        attrs = f' class="{cls}"' if cls else ""
        weight = ' font-weight="bold"' if bold else ""
        out = (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}"{weight}'
               f' text-anchor="{anchor}"{attrs}>{shown}</text>')
        if full and full != text:  # shortened: the whole text as the tooltip
            out = f"<g><title>{escape(full)}</title>{out}</g>"
        self.parts.append(out)


def _column(items, limit, kind, more_word):
    """(shown items, hidden items): at most ``limit`` nodes, the failing first."""
    if len(items) <= limit:
        return items, []
    order = sorted(items, key=lambda it: (it.get("verdict") not in FAILING, it["i"]))
    shown = sorted(order[:limit - 1], key=lambda it: it["i"])
    return shown, order[limit - 1:]


def render_svg(doc) -> str:
    """The topology picture of a results document, or "" without a topology."""
    topo = doc.get("topology") if isinstance(doc, dict) else None
    if not isinstance(topo, dict):
        return ""
    verdicts = _verdicts(doc)
    interop = str(topo.get("interop_namespace") or "?")
    profiles = [{"i": i, **p, "verdict": _subject_verdict(verdicts, p.get("label"))
                 if p.get("registered", True) else "fail"}
                for i, p in enumerate(topo.get("profiles") or [])]
    assocs = []
    for i, a in enumerate(topo.get("associations") or []):
        state, fwd, rev = _edge_state(verdicts, a)
        assocs.append({"i": i, **a, "verdict": _subject_verdict(verdicts, a.get("label")),
                       "state": state, "fwd": fwd, "rev": rev})
    # associations ordered by their first profile: fewer crossings
    assocs.sort(key=lambda a: (min((p["profile"] for p in a.get("profiles") or []),
                                   default=1 << 30), a["i"]))
    for n, a in enumerate(assocs):
        a["i"] = n

    shown_p, hidden_p = _column(profiles, MAX_PROFILES, "profile", "profiles")
    shown_a, hidden_a = _column(assocs, MAX_ASSOCIATIONS, "association", "associations")
    p_node = {p["i"]: ("p", k) for k, p in enumerate(shown_p)}
    for p in hidden_p:
        p_node[p["i"]] = ("p", len(shown_p))
    a_node = {a["i"]: ("a", k) for k, a in enumerate(shown_a)}
    for a in hidden_a:
        a_node[a["i"]] = ("a", len(shown_a))

    # -- element groups: namespace -> class -> count, in the order first reached
    groups = {}
    for a in assocs:
        for e in a.get("elements") or []:
            g = groups.setdefault(e["namespace"], {})
            g[e["class"]] = g.get(e["class"], 0) + e["count"]
    ns_order = list(groups)
    more_ns = ns_order[MAX_NAMESPACES - 1:] if len(ns_order) > MAX_NAMESPACES else []
    shown_ns = [ns for ns in ns_order if ns not in more_ns]
    per_ns = max(2, MAX_ELEMENT_ROWS // max(1, len(shown_ns)))
    e_rows = []  # (group index, kind, text, full, count)
    e_node = {}  # (ns, class) -> row index
    group_views = []
    for gi, ns in enumerate(shown_ns):
        classes = list(groups[ns].items())
        keep = classes if len(classes) <= per_ns else classes[:per_ns - 1]
        rows = []
        for cls, n in keep:
            e_node[(ns, cls)] = len(e_rows)
            rows.append(len(e_rows))
            e_rows.append({"group": gi, "kind": "element", "name": cls, "count": n,
                           "text": f"{cls}  ({n})", "ns": ns})
        rest = classes[len(keep):]
        if rest:
            idx = len(e_rows)
            for cls, _ in rest:
                e_node[(ns, cls)] = idx
            rows.append(idx)
            n_el = sum(n for _, n in rest)
            e_rows.append({"group": gi, "kind": "more", "name": "", "count": n_el, "ns": ns,
                           "text": f"+{len(rest)} more classes  ({n_el})"})
        group_views.append({"ns": ns, "rows": rows, "title": ns})
    if more_ns:
        gi = len(group_views)
        idx = len(e_rows)
        n_cls = sum(len(groups[ns]) for ns in more_ns)
        n_el = sum(sum(groups[ns].values()) for ns in more_ns)
        for ns in more_ns:
            for cls in groups[ns]:
                e_node[(ns, cls)] = idx
        e_rows.append({"group": gi, "kind": "more", "name": "", "count": n_el, "ns": "",
                       "text": f"{n_cls} classes  ({n_el})"})
        group_views.append({"ns": "", "rows": [idx],
                            "title": f"+{len(more_ns)} more namespaces"})

    # -- texts and widths
    def p_lines(p):
        label = str(p.get("label") or "?")
        if not p.get("registered", True):
            return label, "not registered (a reference names it)"
        return label, " ".join(x for x in (p.get("organization"), p.get("verdict") and
                                           f"[{p['verdict']}]") if x)

    def a_lines(a):
        sides = " <-> ".join(a.get("namespaces") or []) or "?"
        return str(a.get("class") or "?"), f"{sides}  {a.get('links', 0)} links"

    p_views = [(p_lines(p), p) for p in shown_p]
    if hidden_p:
        n_links = len(hidden_p)
        p_views.append(((f"+{n_links} more profiles", "aggregated"), {"more": True}))
    a_views = [(a_lines(a), a) for a in shown_a]
    if hidden_a:
        a_views.append(((f"+{len(hidden_a)} more associations",
                         f"{sum(a.get('links', 0) for a in hidden_a)} links"), {"more": True}))

    def col_width(views, kind, heads):
        lim = MAX_CHARS[kind]
        w = max([text_width(_fit(t1, lim)) for (t1, _), _ in views] +
                [text_width(_fit(t2, int(lim * FONT / SMALL)), SMALL) for (_, t2), _ in views]
                + [0])
        return max(w + 2 * NODE_PAD, *(text_width(h, s) for h, s in heads))

    p_heads = [("Registered profiles", FONT), (f"in {interop}", SMALL)]
    a_heads = [("Association classes", FONT), ("served in namespaces", SMALL)]
    e_heads = [("Element classes", FONT), ("per namespace (count)", SMALL)]
    wp = col_width(p_views, "profile", p_heads)
    wa = col_width(a_views, "association", a_heads)
    lim_e = MAX_CHARS["element"]
    we = max([text_width(_fit(r["text"], lim_e)) + 2 * NODE_PAD + 12 for r in e_rows] +
             [text_width(_fit(g["title"], lim_e), FONT) + 2 * NODE_PAD for g in group_views] +
             [text_width(h, s) for h, s in e_heads] + [120])

    refs = topo.get("references")
    arcs = []
    for r in refs or []:
        a, d = r.get("antecedent"), r.get("dependent")
        if a is None or d is None:
            continue
        na, nd = p_node.get(a), p_node.get(d)
        if na is None or nd is None or (na == nd and a != d):
            continue
        dangling = a == d or not profiles[a].get("registered", True) or \
            not profiles[d].get("registered", True)
        arcs.append((nd[1], na[1], "dangling" if dangling else
                     ("subprofile" if r.get("subprofile") else "reference"), r))
    span = max([abs(x - y) for x, y, _, _ in arcs] + [0])
    arc_w = min(ARC_MAX, 24 + 10 * span) if arcs else 0
    graph_head = ("Profile graph" if refs else
                  ("no references" if refs is not None else "graph not fetched"))
    arc_w = max(arc_w, text_width(graph_head, SMALL) + 8) if refs is not None or arcs else \
        text_width(graph_head, SMALL) + 8

    x_arc = PAD
    xp = x_arc + arc_w
    xa = xp + wp + GAP
    xe = xa + wa + GAP
    width = xe + we + PAD

    # -- legend (wraps to the width)
    legend = [("ok", "both directions work (arrowhead per direction)"),
              ("one-way", "one-way: one direction fails or is missing"),
              ("failing", "failing both ways"), ("unchecked", "not judged"),
              ("reference", "ReferencedProfile (to the Antecedent)"),
              ("subprofile", "SubProfileRequiresProfile")]
    leg_items, lx, ly = [], PAD, PAD
    for kind, label in legend:
        w = 34 + text_width(label, SMALL) + 18
        if lx + w > width - PAD and lx > PAD:
            lx, ly = PAD, ly + 20
        leg_items.append((lx, ly, kind, label))
        lx += w
    head_y = ly + 30
    top = head_y + 2 * LINE + 10

    # -- vertical positions
    hp = len(p_views) * (NODE_H + NODE_GAP) - NODE_GAP
    ha = len(a_views) * (NODE_H + NODE_GAP) - NODE_GAP
    he = 0
    for g in group_views:
        g["y"] = he
        g["h"] = GROUP_HEAD + len(g["rows"]) * (ROW_H + ROW_GAP) + 4
        he += g["h"] + GROUP_GAP
    he = max(0, he - GROUP_GAP)
    tallest = max(hp, ha, he, NODE_H)
    yp0 = top + (tallest - hp) / 2
    ya0 = top + (tallest - ha) / 2
    ye0 = top + (tallest - he) / 2
    height = top + tallest + PAD

    def p_center(k):
        return yp0 + k * (NODE_H + NODE_GAP) + NODE_H / 2

    def a_center(k):
        return ya0 + k * (NODE_H + NODE_GAP) + NODE_H / 2

    row_y = {}
    for g in group_views:
        for j, idx in enumerate(g["rows"]):
            row_y[idx] = ye0 + g["y"] + GROUP_HEAD + j * (ROW_H + ROW_GAP)

    s = _Svg()
    w = s.parts.append
    w(f'<svg xmlns="http://www.w3.org/2000/svg" class="topology" width="{width:.0f}" '
      f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
      f'font-family="DejaVu Sans Mono, Liberation Mono, Consolas, monospace" '
      f'data-profiles="{len(profiles)}" data-associations="{len(assocs)}" '
      f'data-profile-nodes="{len(p_views)}" data-association-nodes="{len(a_views)}">')
    w(f"<title>Topology: {len(profiles)} profiles, {len(assocs)} association classes, "
      f"{sum(sum(g.values()) for g in groups.values())} elements in "
      f"{len(groups)} namespaces</title>")
    w("<defs>")
    for kind, color in COLORS.items():
        w(f'<marker id="tm-{kind}" viewBox="0 0 10 10" refX="9" refY="5" '
          f'markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" '
          f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
          f'fill="{color}"/></marker>')
    w("</defs>")
    w(f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>')

    # legend
    for lx, ly, kind, label in leg_items:
        dash = _dash(kind)
        ends = _markers(kind, True, kind == "ok")
        w(f'<line x1="{lx}" y1="{ly + 6}" x2="{lx + 28}" y2="{ly + 6}" stroke="{COLORS[kind]}" '
          f'stroke-width="2"{dash}{ends}/>')
        s.text(lx + 34, ly + 10, label, SMALL, "t-legend")

    # column heads
    for x, heads in ((x_arc, [(graph_head, SMALL)]), (xp, p_heads), (xa, a_heads),
                     (xe, e_heads)):
        for j, (h, size) in enumerate(heads):
            s.text(x, head_y + j * LINE, h, size, "t-head", bold=j == 0 and size == FONT)

    # edges first (under the nodes)
    def curve(x1, y1, x2, y2):
        mx = (x1 + x2) / 2
        return f"M{x1:.1f},{y1:.1f} C{mx:.1f},{y1:.1f} {mx:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"

    pa_edges, ae_edges = {}, {}
    for a in assocs:
        ak = a_node[a["i"]][1]
        for link in a.get("profiles") or []:
            pk = p_node.get(link["profile"], ("p", None))[1]
            if pk is not None:
                _merge(pa_edges, (pk, ak), a, link.get("links", 0))
        for e in a.get("elements") or []:
            idx = e_node.get((e["namespace"], e["class"]))
            if idx is not None:
                _merge(ae_edges, (ak, idx), a, e["count"])
    for (pk, ak), e in sorted(pa_edges.items()):
        _edge(w, curve(xp + wp, p_center(pk), xa, a_center(ak)), e, f"p{pk}-a{ak}")
    for (ak, idx), e in sorted(ae_edges.items()):
        _edge(w, curve(xa + wa, a_center(ak), xe + 6, row_y[idx] + ROW_H / 2), e,
              f"a{ak}-e{idx}")
    for nd, na, kind, r in arcs:
        y1, y2 = p_center(nd) - 6, p_center(na) + 6
        depth = min(arc_w - 6, 18 + 10 * abs(nd - na))
        if nd == na:
            y1, y2 = p_center(nd) - 10, p_center(nd) + 10
        w(f'<path class="ref" data-kind="{kind}" d="M{xp:.1f},{y1:.1f} C{xp - depth:.1f},'
          f'{y1:.1f} {xp - depth:.1f},{y2:.1f} {xp:.1f},{y2:.1f}" fill="none" '
          f'stroke="{COLORS[kind]}" stroke-width="1.6"{_dash(kind)} '
          f'marker-end="url(#tm-{kind})"><title>{escape(str(r.get("class") or ""))}'
          f"</title></path>")

    # nodes
    for k, ((t1, t2), p) in enumerate(p_views):
        kind = "more" if p.get("more") else "profile"
        _node(s, xp, p_center(k) - NODE_H / 2, wp, kind, t1, t2, p, "profile")
    for k, ((t1, t2), a) in enumerate(a_views):
        kind = "more" if a.get("more") else "association"
        _node(s, xa, a_center(k) - NODE_H / 2, wa, kind, t1, t2, a, "association")
    for g in group_views:
        gy = ye0 + g["y"]
        w(f'<g class="nsgroup" data-namespace="{escape(g["ns"])}"><rect x="{xe:.1f}" '
          f'y="{gy:.1f}" width="{we:.1f}" height="{g["h"]:.1f}" rx="6" fill="#f6f8fa" '
          f'stroke="#d0d7de"/>')
        s.text(xe + NODE_PAD, gy + 17, _fit(g["title"], lim_e), FONT, "t-ns", bold=True,
               full=g["title"])
        w("</g>")
        for idx in g["rows"]:
            r = e_rows[idx]
            y = row_y[idx]
            w(f'<g class="node" data-kind="{"element" if r["kind"] == "element" else "more"}" '
              f'data-label="{escape(r["ns"] + ":" + r["name"])}" data-count="{r["count"]}">'
              f'<rect x="{xe + 6:.1f}" y="{y:.1f}" width="{we - 12:.1f}" height="{ROW_H}" '
              f'rx="4" fill="#ffffff" stroke="#8c959f"'
              f'{_dash("more") if r["kind"] == "more" else ""}/>')
            s.text(xe + 6 + NODE_PAD, y + 16, _fit(r["text"], lim_e), FONT, "t-label",
                   full=r["text"])
            w("</g>")
    w("</svg>")
    return "\n".join(s.parts)


def _dash(kind):
    return {"one-way": ' stroke-dasharray="7 4"', "failing": ' stroke-dasharray="3 3"',
            "unchecked": ' stroke-dasharray="2 3"',
            "subprofile": ' stroke-dasharray="5 3"', "more": ' stroke-dasharray="4 3"'
            }.get(kind, "")


def _markers(kind, fwd, rev):
    if kind in ("failing", "unchecked"):
        return ""
    return ((f' marker-end="url(#tm-{kind})"' if fwd else "")
            + (f' marker-start="url(#tm-{kind})"' if rev else ""))


def _merge(edges, key, assoc, n):
    """Edges to an aggregated node add up; the worst state speaks."""
    order = ("failing", "one-way", "unchecked", "ok")
    cur = edges.get(key)
    if cur is None:
        edges[key] = {"state": assoc["state"], "fwd": assoc["fwd"], "rev": assoc["rev"], "n": n}
        return
    if order.index(assoc["state"]) < order.index(cur["state"]):
        cur.update(state=assoc["state"], fwd=assoc["fwd"], rev=assoc["rev"])
    cur["n"] += n


def _edge(w, d, e, ident):
    kind = e["state"]
    width = 1.4 + min(2.6, math.log10(max(1, e["n"])))
    w(f'<path class="edge" data-state="{kind}" data-edge="{ident}" d="{d}" fill="none" '
      f'stroke="{COLORS[kind]}" stroke-width="{width:.1f}"{_dash(kind)}'
      f'{_markers(kind, e["fwd"], e["rev"])}><title>{kind}, {e["n"]} links</title></path>')


def _node(s, x, y, width, kind, t1, t2, item, column):
    fill, stroke = NODE_COLORS.get(item.get("verdict") or "skip", NODE_COLORS["skip"])
    lim = MAX_CHARS[column]
    full = str(item.get("label") or t1)
    dash = ' stroke-dasharray="4 3"' if kind == "more" or not item.get("registered", True) \
        else ""
    s.parts.append(f'<g class="node" data-kind="{kind}" data-label="{escape(full)}" '
                   f'data-verdict="{escape(str(item.get("verdict") or ""))}">'
                   f'<title>{escape(full)}</title><rect x="{x:.1f}" y="{y:.1f}" '
                   f'width="{width:.1f}" height="{NODE_H}" rx="5" fill="{fill}" '
                   f'stroke="{stroke}" stroke-width="1.5"{dash}/>')
    s.text(x + NODE_PAD, y + 16, _fit(t1, lim), FONT, "t-label", bold=kind != "more", full=t1)
    s.text(x + NODE_PAD, y + 32, _fit(t2, int(lim * FONT / SMALL)), SMALL, "t-sub", full=t2)
    s.parts.append("</g>")
