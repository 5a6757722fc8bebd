"""An installable tool: the wheel carries the library, the suites and the
mock's MOF, and ``wbemconform check`` runs from the installed package, far from
the repository -- against the embedded mock and against ``wbemconform serve``.

The wheel is built from this checkout and unpacked into a folder that comes
first on the module path (the installed dependencies are reused), so the
repository's own files cannot stand in for what the wheel lacks."""

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


#: what setuptools writes into the checkout while it builds the wheel
BUILD_LEFTOVERS = (REPO / "build", REPO / "src" / "wbemconform.egg-info")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    mine = [p for p in BUILD_LEFTOVERS if not p.exists()]  # those the build creates
    try:
        build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                                "-w", str(out), str(REPO)], capture_output=True, text=True,
                               timeout=300)
    finally:
        for leftover in mine:
            shutil.rmtree(leftover, ignore_errors=True)
    assert build.returncode == 0, build.stderr[-2000:]
    (path,) = out.glob("wbemconform-*.whl")
    site = out / "site"
    with zipfile.ZipFile(path) as whl:
        whl.extractall(site)
    return path, site


def test_the_wheel_carries_suites_profiles_templates_and_the_catalog(wheel):
    path, _ = wheel
    names = set(zipfile.ZipFile(path).namelist())
    for needed in ("wbemconform/suites/test_traversal.py", "wbemconform/suites/__init__.py",
                   "wbemconform/profiles/schema/interop.mof",
                   "wbemconform/profiles/examples/process.mof",
                   "wbemconform/data/requirements.toml",
                   "wbemconform/templates/report.html.j2", "wbemconform/plugin.py"):
        assert needed in names, f"the wheel lacks {needed}"
    meta = next(n for n in names if n.endswith("entry_points.txt"))
    entry = zipfile.ZipFile(path).read(meta).decode()
    assert "wbemconform = wbemconform.cli:main" in entry
    assert "wbemconform = wbemconform.plugin" in entry
    # the license pyproject names, as a file in the wheel's metadata
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    license_text = zipfile.ZipFile(path).read(
        next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))).decode()
    assert "Apache License" in license_text and "Version 2.0" in license_text


def _installed(site, *args, cwd, timeout=300):
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("WBEMCONFORM_PROFILES", None)
    return subprocess.run([sys.executable, "-c", "import sys; from wbemconform.cli import "
                           "main; sys.exit(main())", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_check_runs_the_installed_suites_against_the_mock(wheel, tmp_path):
    _, site = wheel
    version = _installed(site, "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("wbemconform ")
    run = _installed(site, "check", "-q", cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "conformance gate: PASSED" in run.stdout
    doc = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    assert doc["run"]["rootdir"] == str(site / "wbemconform" / "suites")  # the wheel's suites
    assert doc["gate"]["status"] == "passed"
    assert (tmp_path / "reports" / "conformance.html").is_file()


def test_check_runs_against_wbemconform_serve(wheel, tmp_path):
    _, site = wheel
    env = {**os.environ, "PYTHONPATH": str(site)}
    server = subprocess.Popen([sys.executable, "-c", "import sys; from wbemconform.cli import "
                               "main; sys.exit(main())", "serve", "--port", "0", "--read-only"],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        line = server.stdout.readline()  # "serving the mock at http://127.0.0.1:PORT ..."
        deadline = time.monotonic() + 30
        while "serving" not in line and time.monotonic() < deadline and server.poll() is None:
            line = server.stdout.readline()
        url = next(w for w in line.split() if w.startswith("http://"))
        run = _installed(site, "check", "-q", "--wbem-url", url, "--conformance-json",
                         "wire.json", cwd=tmp_path)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert run.returncode == 0, run.stdout[-3000:]
    doc = json.loads((tmp_path / "wire.json").read_text())
    assert doc["gate"]["status"] == "passed" and doc["target"] == url
