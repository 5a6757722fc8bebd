"""The defect zoo's table: each seeded defect, the requirements it must fail,
the requirements the suite failed, and whether they match.

    python benchmarks/zoo_table.py

Exit status 0 iff every defect is caught by exactly its expected ids (and the
correct baselines fail nothing).
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import zoo  # noqa: E402


def main():
    rows, ok = [], True
    start = time.perf_counter()
    for name in zoo.entries():
        expected = sorted(zoo.manifest(name)["fails"])
        results, _ = zoo.run(name)
        failed = sorted(zoo.failing_ids(results))
        match = expected == failed
        ok &= match
        rows.append((name, ", ".join(expected) or "-", ", ".join(failed) or "-",
                     "yes" if match else "NO"))
    widths = [max(len(r[i]) for r in rows + [("defect", "expected", "failed", "match")])
              for i in range(4)]
    line = "  ".join(f"{{:{w}}}" for w in widths)
    print(line.format("defect", "expected", "failed", "match"))
    print(line.format(*("-" * w for w in widths)))
    for r in rows:
        print(line.format(*r))
    defects = [r for r in rows if r[1] != "-"]
    caught = sum(1 for r in defects if r[3] == "yes")
    goods = [r for r in rows if r[1] == "-"]
    print(f"\n{caught}/{len(defects)} defects caught by exactly the expected ids; "
          f"{sum(1 for r in goods if r[2] == '-')}/{len(goods)} correct baselines fail nothing; "
          f"{time.perf_counter() - start:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
