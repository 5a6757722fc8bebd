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
