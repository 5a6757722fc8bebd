"""Every Reproduce command a report shows reproduces its verdict, from any
working directory: the results document records the run's options as data
(paths absolute, secrets never) and the commands are built from that record."""

import html
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "tests" / "defects"


def _run(args, cwd):
    return subprocess.run([sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider"],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def test_every_reproduce_command_gives_the_same_verdict_elsewhere(tmp_path):
    author = tmp_path / "author"  # the MOF lives in the author's folder, given relatively
    author.mkdir()
    mof = author / "noqual.mof"
    mof.write_text((ZOO / "target-ns-missing-interop" / "defect.mof").read_text()
                   .replace('#pragma include("../_common/processes.mof")',
                            f'#pragma include("{ZOO / "_common" / "processes.mof"}")'))
    first = _run([str(REPO / "suites"), "--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml"),
                  "--wbem-mock-mof", "author/noqual.mof", "--conformance-json", "r.json",
                  "--conformance-report", "r.html"], cwd=tmp_path)
    assert first.returncode == 1, first.stdout[-2000:]
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["options"]["--wbem-mock-mof"] == [str(mof)]
    page = (tmp_path / "r.html").read_text()
    commands = [html.unescape(block) for block in
                re.findall(r'<pre class="repro">([^<]*)</pre>', page)]
    failing = {(rid, s): rec for rid, req in doc["requirements"].items()
               for s, rec in req["subjects"].items() if rec["verdict"] in ("fail", "error")}
    assert commands and len(commands) == len(failing)
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    for command in commands:
        argv = shlex.split(command.splitlines()[0])
        assert argv[0] == "pytest" and str(mof) in argv
        again = _run([*argv[1:], "--conformance-json", "again.json"], cwd=elsewhere)
        redo = json.loads((elsewhere / "again.json").read_text())
        verdicts = {(rid, s): rec["verdict"] for rid, req in redo["requirements"].items()
                    for s, rec in req["subjects"].items()}
        assert len(verdicts) == 1, (command, verdicts)
        (key, verdict), = verdicts.items()
        assert verdict == failing[key]["verdict"], (command, again.stdout[-1500:])
