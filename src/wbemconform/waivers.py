"""Waivers: known failures a team accepts for a while (``--conformance-waivers``).

TOML::

    [[waiver]]
    requirement = "EC-2"
    profile = "Process 1.0"        # optional: matches subjects whose label contains it
    reason = "class renamed in 2.0"
    expires = 2027-03-31           # optional

YAML: the same entries as a list under ``waivers:``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import catalog

__all__ = ["Waiver", "WaiverError", "load_waivers", "find_waiver"]


class WaiverError(ValueError):
    """The waiver file is wrong: the message names the file and the entry."""


@dataclass
class Waiver:
    requirement: str
    reason: str
    profile: str | None = None
    expires: dt.date | None = None
    where: str = ""
    used: list = field(default_factory=list)  # subject labels it waived (or would have)

    def matches(self, req_id, label):
        return req_id == self.requirement and (
            self.profile is None or self.profile.lower() in (label or "").lower())

    def expired(self, today=None):
        return self.expires is not None and self.expires < (today or dt.date.today())

    def as_dict(self):
        return {"requirement": self.requirement, "profile": self.profile, "reason": self.reason,
                "expires": self.expires.isoformat() if self.expires else None,
                "expired": self.expired(), "matched": list(self.used), "where": self.where}


def _parse_date(value, where):
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise WaiverError(f"{where}: expires {value!r} is not a date (YYYY-MM-DD)") from None


def load_waivers(path) -> list[Waiver]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WaiverError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml
            data = yaml.safe_load(text) or {}
            entries = data.get("waivers", []) if isinstance(data, dict) else data
        else:
            entries = tomllib.loads(text).get("waiver", [])
    except Exception as exc:  # both parsers' syntax errors
        raise WaiverError(f"{path}: not valid {'YAML' if path.suffix.lower() in ('.yaml', '.yml') else 'TOML'}: {exc}") from None
    if not isinstance(entries, list):
        raise WaiverError(f"{path}: expected a list of waivers")
    out = []
    known = catalog()
    for i, entry in enumerate(entries, 1):
        where = f"{path}: waiver #{i}"
        if not isinstance(entry, dict):
            raise WaiverError(f"{where}: expected a table with requirement and reason")
        unknown = set(entry) - {"requirement", "profile", "reason", "expires"}
        if unknown:
            raise WaiverError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        req = entry.get("requirement")
        if req not in known:
            raise WaiverError(f"{where}: requirement {req!r} is not in the catalog")
        reason = entry.get("reason")
        if not reason or not str(reason).strip():
            raise WaiverError(f"{where}: a waiver needs a reason")
        out.append(Waiver(req, str(reason), entry.get("profile"),
                          _parse_date(entry.get("expires"), where), where))
    return out


def find_waiver(waivers, req_id, label):
    return next((w for w in waivers if w.matches(req_id, label)), None)
