"""The benchmark scripts' own logic (the figures themselves come from running
them, never from tests)."""

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import profile_run  # noqa: E402


def test_flame_tree_shares_samples_below_the_root():
    stacks = [
        "<module> (x.py:1);run_catalog (runner.py:3);check_a (c.py:9);path_key (paths.py:20) 6",
        "<module> (x.py:1);run_catalog (runner.py:3);check_a (c.py:9) 2",
        "<module> (x.py:1);run_catalog (runner.py:3);check_b (c.py:30) 2",
        "<module> (x.py:1);open_target (target.py:5) 90",  # not under the root: left out
        "garbage line",
    ]
    lines = profile_run.flame_tree(stacks, min_pct=15)
    assert lines == ["100.0%  run_catalog (10 samples)",
                     " 80.0%    check_a (c.py)",
                     " 60.0%      path_key (paths.py)",
                     " 20.0%    check_b (c.py)"]
    assert profile_run.flame_tree(stacks, min_pct=50) == lines[:3]
    assert profile_run.flame_tree(stacks, depth=1, min_pct=0) == [lines[0], lines[1], lines[3]]
    assert profile_run.flame_tree(stacks, root="nothing") == ["no samples under nothing"]


def test_bench_report_runs_on_a_small_document(tmp_path, capsys):
    import bench_report
    out = tmp_path / "report.html"
    assert bench_report.main(["--profiles", "2", "--elements", "3", "--fail-every", "5",
                              "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "document: 2 profiles x 3 elements" in said and "render_report: best of 3" in said
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") or html.lstrip().lower().startswith("<!doctype")


def test_plain_profiles_row_and_its_growth_verdict():
    import bench_suites
    mof = bench_suites.plain_profiles_mof(3)
    assert mof.count("instance of Bench_PlainProfile") == 3 and "bench:plain:2" in mof
    row = {"profiles": 25, "run": 1.0, "cpu": 1.0, "ops": 100}
    # judged on CPU time; the wall time is shown beside it
    text, ok = bench_suites.plain_growth(row, {"profiles": 100, "run": 9.0, "cpu": 4.3,
                                               "ops": 400})
    assert ok and "CPU time x4.30 (bound x4.40) PASS" in text and "wall time x9.00" in text
    text, ok = bench_suites.plain_growth(row, {"profiles": 100, "run": 4.0, "cpu": 5.0,
                                               "ops": 400})
    assert not ok and "FAIL" in text
