"""Waivers: known failures a team accepts for a while (``--conformance-waivers``).

TOML::

    [[waiver]]
    requirement = "EC-2"
    profile = "Process 1.0"        # optional: the subject it covers (see below)
    reason = "class renamed in 2.0"
    expires = 2027-03-31           # optional: a date (not a date-time)

YAML: the same entries as a list under ``waivers:``.

A waiver covers one requirement, and -- with ``profile`` -- only the subjects
that field names exactly (case aside): a registered profile by its label
(``Process 1.0``), its RegisteredName and version, or its RegisteredName; an
association by its label, its class name (optionally ``namespace:class``), or
any of those names of a profile it links. Never by a part of a name: ``1.0``
names nothing.

The file is validated whole before anything runs: a field of the wrong type,
a date-time where a date belongs, an unknown field or requirement is one
error, ``FILE:LINE: waiver #N: message``.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import catalog

__all__ = ["Waiver", "WaiverError", "load_waivers", "find_waiver"]

FIELDS = ("requirement", "profile", "reason", "expires")


class WaiverError(ValueError):
    """The waiver file is wrong: the message names the file, the line and the entry."""


@dataclass
class Waiver:
    requirement: str
    reason: str
    profile: str | None = None
    expires: dt.date | None = None
    where: str = ""
    used: list = field(default_factory=list)  # subject labels it waived (or would have)

    def matches(self, req_id, names):
        """Whether it covers ``req_id`` on a subject known by ``names`` (its
        label and the other names the module docstring lists)."""
        if req_id != self.requirement:
            return False
        if self.profile is None:
            return True
        wanted = self.profile.strip().casefold()
        return any(wanted == str(n).strip().casefold() for n in names if n)

    def expired(self, today=None):
        return self.expires is not None and self.expires < (today or dt.date.today())

    def as_dict(self):
        return {"requirement": self.requirement, "profile": self.profile, "reason": self.reason,
                "expires": self.expires.isoformat() if self.expires else None,
                "expired": self.expired(), "matched": list(self.used), "where": self.where}


# -- where each entry and field is in the file (for FILE:LINE messages) --------------

def _toml_lines(text):
    """[{field: line}] per [[waiver]] table, in file order (header under "")."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(r"\s*\[\[\s*waiver\s*\]\]", line):
            out.append({"": number})
        elif re.match(r"\s*\[", line):
            out.append(None)  # another table: its keys are not a waiver's
        elif out and out[-1] is not None:
            m = re.match(r"\s*([A-Za-z0-9_\"'-]+)\s*=", line)
            if m:
                out[-1].setdefault(m.group(1).strip("\"'"), number)
    return [entry for entry in out if entry is not None]


def _yaml_lines(text):
    """[{field: line}] per entry of the waivers list, in file order."""
    import yaml
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return []
    seq = root
    if isinstance(root, yaml.MappingNode):
        seq = next((v for k, v in root.value if getattr(k, "value", None) == "waivers"), None)
    if not isinstance(seq, yaml.SequenceNode):
        return []
    out = []
    for node in seq.value:
        lines = {"": node.start_mark.line + 1}
        if isinstance(node, yaml.MappingNode):
            for key, _ in node.value:
                lines.setdefault(str(getattr(key, "value", "")), key.start_mark.line + 1)
        out.append(lines)
    return out


def _parse_date(value, where):
    if value is None:
        return None
    if isinstance(value, dt.datetime) or isinstance(value, dt.time):
        raise WaiverError(f"{where}: expires {value!s} is a date-time; write a date "
                          "(YYYY-MM-DD): a waiver expires at the end of a day")
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise WaiverError(f"{where}: expires {value!r} is not a date (YYYY-MM-DD)")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise WaiverError(f"{where}: expires {value!r} is not a date (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise WaiverError(f"{where}: expires {value!r} is not a date (YYYY-MM-DD)") from None


def _text(entry, name, where, required):
    value = entry.get(name)
    if value is None:
        if required:
            raise WaiverError(f"{where}: a waiver needs {name!r}")
        return None
    if not isinstance(value, str):
        kind = {list: "a list", dict: "a table", bool: "a boolean", int: "a number",
                float: "a number"}.get(type(value), type(value).__name__)
        raise WaiverError(f"{where}: {name} must be a string, not {kind} ({value!r})")
    if not value.strip():
        raise WaiverError(f"{where}: {name} is empty")
    return value


def load_waivers(path) -> list[Waiver]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WaiverError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise WaiverError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    yaml_file = path.suffix.lower() in (".yaml", ".yml")
    try:
        if yaml_file:
            import yaml
            data = yaml.safe_load(text) or {}
            entries = data.get("waivers", []) if isinstance(data, dict) else data
            lines = _yaml_lines(text)
        else:
            entries = tomllib.loads(text).get("waiver", [])
            lines = _toml_lines(text)
    except Exception as exc:  # noqa: BLE001 -- both parsers' syntax errors, one line
        first = " ".join(str(exc).split())
        raise WaiverError(f"{path}: not valid {'YAML' if yaml_file else 'TOML'}: {first}") \
            from None
    if not isinstance(entries, list):
        raise WaiverError(f"{path}: expected a list of waivers")
    out = []
    known = catalog()
    for i, entry in enumerate(entries, 1):
        at = lines[i - 1] if i - 1 < len(lines) else {}

        def where(name=""):
            line = at.get(name) or at.get("")
            return f"{path}:{line}: waiver #{i}" if line else f"{path}: waiver #{i}"
        if not isinstance(entry, dict):
            raise WaiverError(f"{where()}: expected a table with requirement and reason")
        unknown = sorted(str(k) for k in entry if k not in FIELDS)
        if unknown:
            raise WaiverError(f"{where(unknown[0])}: unknown field(s) {', '.join(unknown)} "
                              f"(known: {', '.join(FIELDS)})")
        req = _text(entry, "requirement", where("requirement"), True)
        if req not in known:
            raise WaiverError(f"{where('requirement')}: requirement {req!r} is not in the "
                              "catalog")
        reason = _text(entry, "reason", where("reason"), True)
        profile = _text(entry, "profile", where("profile"), False)
        out.append(Waiver(req, reason, profile,
                          _parse_date(entry.get("expires"), where("expires")), where()))
    return out


def find_waiver(waivers, req_id, names):
    """The first waiver covering ``req_id`` on a subject known by ``names``."""
    return next((w for w in waivers if w.matches(req_id, names)), None)
