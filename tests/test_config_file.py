"""`wbemconform check --config FILE --target NAME`: TOML targets with the
command line's option names, pywbemcli's connections file, FILE:LINE errors,
the command line winning, passwords never echoed."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wbemconform.cli_check import parser
from wbemconform.config_file import ConfigError, configured

REPO = Path(__file__).resolve().parents[1]
SHOULD_FAILS = REPO / "tests" / "defects" / "bad-class-name" / "defect.mof"


def parse(args):
    return vars(parser().parse_args(args))


def values(tmp_path, text, *argv, name="cfg.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return configured(parse(["--config", str(path), *argv]), parse)


def test_a_toml_target_gives_its_options_and_the_command_line_wins(tmp_path):
    got = values(tmp_path, """
        [target.lab]
        wbem-url = "https://lab.example:5989"
        wbem-user = "admin"
        wbem-password = "pw-in-file"
        wbem-flavor = "wmi"
        wbem-workers = 2
        wbem-no-verify = true
        wbem-profile = ["Process 1.0", "Software Inventory"]
        wbem-profile-defs = "defs/profiles.toml"

        [target.other]
        wbem-url = "http://other"
        """, "--target", "lab", "--wbem-flavor", "dmtf", "--wbem-profile", "Only 1.0")
    assert got["wbem_url"] == "https://lab.example:5989" and got["wbem_user"] == "admin"
    assert got["wbem_password"] == "pw-in-file" and got["wbem_workers"] == 2
    assert got["wbem_no_verify"] is True
    assert got["wbem_flavor"] == "dmtf"  # the command line wins
    assert got["wbem_profile"] == ["Only 1.0"]  # ... and replaces a list
    assert got["wbem_profile_defs"] == str(tmp_path / "defs" / "profiles.toml")


def test_the_only_target_needs_no_name_and_several_do(tmp_path):
    assert values(tmp_path, '[target.one]\nwbem-url = "http://a"\n')["wbem_url"] == "http://a"
    with pytest.raises(ConfigError, match=r"2 targets \(a, b\): choose one with --target"):
        values(tmp_path, '[target.a]\n[target.b]\n')
    with pytest.raises(ConfigError, match=r"no target 'c'; it names a, b"):
        values(tmp_path, '[target.a]\n[target.b]\n', "--target", "c")


@pytest.mark.parametrize("text, where, phrase", [
    ('[target.a]\nwbem-url = "http://a"\nwbem-flavor = "nope"\n', 3,
     "argument --wbem-flavor: invalid choice: 'nope'"),
    ('[target.a]\n\nwbem-flavour = "wmi"\n', 3, "unknown option 'wbem-flavour'"),
    ('[target.a]\nwbem-url = \n', 2, "not TOML"),
    ('[target.a]\nwbem-no-verify = "yes"\n', 2, "wbem-no-verify: expected true or false"),
    ('[target.a]\nwbem-url = ["a", "b"]\n', 2, "takes one value, not a list"),
], ids=["bad-value", "unknown-key", "syntax", "not-a-bool", "not-a-list"])
def test_errors_name_file_and_line(tmp_path, text, where, phrase):
    with pytest.raises(ConfigError) as err:
        values(tmp_path, text)
    assert str(err.value).startswith(f"{tmp_path / 'cfg.toml'}:{where}: "), str(err.value)
    assert phrase in str(err.value)


def test_a_password_in_the_file_is_never_echoed(tmp_path):
    with pytest.raises(ConfigError) as err:
        values(tmp_path, '[target.a]\nwbem-url = "http://a"\nwbem-password = ["-hunter2"]\n')
    assert "hunter2" not in str(err.value)


PYWBEMCLI = """\
connection_definitions:
  srv1:
    name: srv1
    server: https://srv1.example
    user: admin
    password: pw-yaml
    default-namespace: root/cimv2
    timeout: 12
    use_pull: null
    verify: false
    certfile: null
    keyfile: null
    ca-certs: null
    mock-server: []
  mock1:
    name: mock1
    mock-server:
    - model.mof
  scripted:
    mock-server:
    - script.py
  certs:
    server: srv
    certfile: client.pem
default_connection_name: srv1
"""


def test_pywbemcli_s_connections_file_by_name(tmp_path, monkeypatch):
    path = tmp_path / "conns.yaml"
    path.write_text(PYWBEMCLI)
    got = values(tmp_path, PYWBEMCLI, name="conns.yaml")  # the default connection
    assert got["wbem_url"] == "https://srv1.example" and got["wbem_user"] == "admin"
    assert got["wbem_password"] == "pw-yaml" and got["wbem_timeout"] == "12"
    assert got["wbem_no_verify"] is True
    got = values(tmp_path, PYWBEMCLI, "--target", "mock1", name="conns.yaml")
    assert got["wbem_mock_mof"] == [str(tmp_path / "model.mof")]
    with pytest.raises(ConfigError, match=r"conns.yaml:20: mock-server script.py: only MOF"):
        values(tmp_path, PYWBEMCLI, "--target", "scripted", name="conns.yaml")
    with pytest.raises(ConfigError, match=r"conns.yaml:24: certfile: client certificates"):
        values(tmp_path, PYWBEMCLI, "--target", "certs", name="conns.yaml")
    # --target without --config: pywbemcli's own file
    monkeypatch.setenv("PYWBEMCLI_CONNECTIONS_FILE", str(path))
    got = configured(parse(["--target", "srv1"]), parse)
    assert got["wbem_url"] == "https://srv1.example"
    monkeypatch.setenv("PYWBEMCLI_CONNECTIONS_FILE", str(tmp_path / "none.yaml"))
    with pytest.raises(ConfigError, match="pywbemcli's connections file .* does not exist"):
        configured(parse(["--target", "srv1"]), parse)


def test_check_runs_a_configured_target_and_reports_errors_as_aborted(tmp_path):
    cfg = tmp_path / "wbem.toml"
    cfg.write_text(f'[target.zoo]\nwbem-mock-mof = ["{SHOULD_FAILS}"]\n'
                   '[target.bad]\nwbem-timeout = -1\n')
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "wbemconform.cli", "check", "-q", "--config", str(cfg),
           "--conformance-dir", "out"]
    ok = subprocess.run([*cmd, "--target", "zoo"], cwd=tmp_path, capture_output=True,
                        text=True, env=env, timeout=180)
    doc = json.loads((tmp_path / "out" / "conformance.json").read_text())
    assert ok.returncode == 0, ok.stdout[-2000:]
    assert doc["options"]["--wbem-mock-mof"] == [str(SHOULD_FAILS)]
    bad = subprocess.run([*cmd, "--target", "bad"], cwd=tmp_path, capture_output=True,
                         text=True, env=env, timeout=180)
    doc = json.loads((tmp_path / "out" / "conformance.json").read_text())
    assert bad.returncode == 2 and doc["gate"]["status"] == "aborted"
    assert bad.stderr.strip() == ("wbemconform check: error: --wbem-timeout '-1': expected a "
                                  "number of seconds > 0"), bad.stderr
