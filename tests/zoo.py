"""The defect zoo (tests/defects/): loading entries and running the catalog on them."""

import os
import shlex
import tomllib
from functools import lru_cache
from pathlib import Path

import pytest

from wbemconform.catalog import catalog
from wbemconform.runner import run_catalog
from wbemconform import options as option_table
from wbemconform.options import TargetOptions

ZOO = Path(__file__).resolve().parent / "defects"
SCHEMAS = Path(os.environ.get("WBEMCONFORM_SHARED", ZOO.parents[2] / "shared")) / "schemas"


def entries():
    return sorted(d.name for d in ZOO.iterdir()
                  if d.is_dir() and (d / "manifest.toml").is_file())


def manifest(name):
    data = tomllib.loads((ZOO / name / "manifest.toml").read_text(encoding="utf-8"))
    unknown = set(data) - {"description", "fails", "providers", "flavor", "mofs", "quirks",
                           "schema", "profile_defs", "interop_namespace", "mock_limits"}
    assert not unknown, f"{name}/manifest.toml: unknown keys {unknown}"
    bad = set(data["fails"]) - set(catalog())
    assert not bad, f"{name}/manifest.toml: ids not in the catalog: {bad}"
    stray = set(data.get("mock_limits", [])) - set(data["fails"])
    assert not stray, f"{name}/manifest.toml: mock_limits not among fails: {stray}"
    return data


def is_baseline(name):
    """A correct target: it fails nothing, or only what the embedded mock
    itself cannot do otherwise (its manifest's mock_limits: none today -- the
    mock serves whatever interop namespace the MOF names, "interop" included)."""
    data = manifest(name)
    return not set(data["fails"]) - set(data.get("mock_limits", []))


def options(name):
    data = manifest(name)
    folder = ZOO / name
    mofs = [str(folder / m) for m in data.get("mofs", ["defect.mof"])]
    providers = [f"{prov}={folder / spec}" for prov, spec in data.get("providers", {}).items()]
    schema = None
    if data.get("schema"):
        schema = SCHEMAS / data["schema"]
        if not schema.is_file():
            pytest.skip(f"zoo entry {name} needs DMTF's CIM schema release {data['schema']}, "
                        f"which only CI clones have beside them (expected in {SCHEMAS})")
        schema = str(schema)
    defs = str(folder / data["profile_defs"]) if data.get("profile_defs") else None
    return TargetOptions(mock_mof=mofs, mock_providers=providers,
                         mock_quirks=data.get("quirks", []), flavor=data.get("flavor", "auto"),
                         mock_schema=schema, profile_defs=defs,
                         interop_namespace=data.get("interop_namespace"))


def command(name):
    """The command line that reproduces an entry with the suites (from the
    option table, wbemconform.options: the plugin reads the same rows)."""
    return shlex.join(["pytest", "suites", *option_table.command_args(options(name))])


@lru_cache(maxsize=None)
def run(name):
    """(Results, Observations) of the whole catalog on an entry (cached per session)."""
    return run_catalog(options(name))


def failing_ids(results):
    return {rid for rid in catalog() if results.overall(rid) in ("fail", "error")}
