"""The shape of the package (issue 19): no import cycle, function-level
imports included; no module over 500 lines. The layer contracts themselves
are import-linter's (pyproject.toml, run by .ci/tests)."""

from pathlib import Path

import grimp

SRC = Path(__file__).resolve().parents[1] / "src" / "wbemconform"


def _cycles(graph):
    """The strongly connected components of more than one module (Tarjan)."""
    adjacent = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(start):
        work = [(start, iter(sorted(adjacent[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(adjacent[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle_lazy_imports_included():
    graph = grimp.build_graph("wbemconform", cache_dir=None)
    assert _cycles(graph) == []


def test_no_module_is_over_500_lines():
    big = {str(module.relative_to(SRC)): lines for module in SRC.rglob("*.py")
           if (lines := module.read_text(encoding="utf-8").count("\n")) > 500}
    assert not big, big
