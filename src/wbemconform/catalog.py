"""The requirement catalog (``data/requirements.toml``), as data."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["Requirement", "catalog", "requirement", "LEVELS", "FLAVORS", "SUBJECTS"]

LEVELS = ("MUST", "SHOULD", "MAY")
FLAVORS = ("dmtf", "wmi")
SUBJECTS = ("target", "profile", "association")


@dataclass(frozen=True)
class Requirement:
    id: str
    level: str
    flavor: str
    subject: str
    statement: str
    source: str
    #: the check sends write operations (run last; only where writes are allowed)
    writes: bool = False
    #: the level on wmi-flavor targets, where it differs from ``level``
    wmi_level: str | None = None
    #: the requirements whose failures on the same subject a failure of this
    #: one may explain (the root-cause grouping, wbemconform.causes)
    explains: tuple = ()

    def level_for(self, flavor) -> str:
        """The requirement's level on a target of that flavor."""
        return self.wmi_level if flavor == "wmi" and self.wmi_level else self.level

    @property
    def group(self) -> str:
        return self.id.split("-")[0]


def _load(text: str, where: str) -> dict[str, Requirement]:
    data = tomllib.loads(text)
    out = {}
    for i, entry in enumerate(data.get("requirement", []), 1):
        try:
            if "explains" in entry:
                entry = {**entry, "explains": tuple(entry["explains"])}
            req = Requirement(**entry)
        except TypeError as exc:
            raise ValueError(f"{where}: requirement #{i}: {exc}") from None
        problems = []
        if req.level not in LEVELS:
            problems.append(f"level {req.level!r} not in {LEVELS}")
        if req.wmi_level is not None and req.wmi_level not in LEVELS:
            problems.append(f"wmi_level {req.wmi_level!r} not in {LEVELS}")
        if req.flavor not in FLAVORS:
            problems.append(f"flavor {req.flavor!r} not in {FLAVORS}")
        if req.subject not in SUBJECTS:
            problems.append(f"subject {req.subject!r} not in {SUBJECTS}")
        if req.id in out:
            problems.append("duplicate id")
        if problems:
            raise ValueError(f"{where}: requirement {req.id}: " + "; ".join(problems))
        out[req.id] = req
    for req in out.values():
        unknown = [rid for rid in req.explains if rid not in out or rid == req.id]
        if unknown:
            raise ValueError(f"{where}: requirement {req.id}: explains {unknown}: not "
                             "another requirement of the catalog")
    _no_cycle(out, where)
    return out


def _no_cycle(reqs, where):
    """``explains`` must not go round: a cause cannot be explained by what it explains."""
    state = {}

    def visit(rid, path):
        if state.get(rid) == "done":
            return
        if state.get(rid) == "open":
            raise ValueError(f"{where}: explains goes round: " + " -> ".join((*path, rid)))
        state[rid] = "open"
        for nxt in reqs[rid].explains:
            visit(nxt, (*path, rid))
        state[rid] = "done"
    for rid in reqs:
        visit(rid, ())


@lru_cache(maxsize=1)
def catalog() -> dict[str, Requirement]:
    """{id: Requirement}, in catalog order."""
    text = resources.files("wbemconform").joinpath("data/requirements.toml").read_text("utf-8")
    return _load(text, "wbemconform/data/requirements.toml")


def requirement(req_id: str) -> Requirement:
    try:
        return catalog()[req_id]
    except KeyError:
        raise KeyError(f"requirement {req_id!r} is not in the catalog") from None
