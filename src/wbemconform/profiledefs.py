"""The profile knowledge base: what DSP1033's methodologies need to know of a
management profile that its registration does not say.

A ``CIM_RegisteredProfile`` instance names a profile (organization, name,
version); to find the profile's central instances a client must also know
whether it is autonomous or a component profile, its central class, and --
for the scoping class methodology -- its scoping class and the scoping path
from the central class to the scoping class. Those facts are in the
published profiles (DMTF DSPs, SNIA SMI-S books), not on the wire, so they
are data here: ``data/profiles.toml``, plus the entries of the file a user
names with ``--wbem-profile-defs`` (which come first, so they can correct or
extend the built-in ones).

File format (TOML, one ``[[profile]]`` table per entry)::

    [[profile]]
    organization = "DMTF"        # RegisteredOrganization as its Values name it,
                                 # or OtherRegisteredOrganization when it is 1 (Other)
    name = "Fan"                 # RegisteredName
    versions = ["1.0.0"]         # optional: the RegisteredVersions meant (default: all)
    type = "component"           # autonomous | component | specification
    central_class = "CIM_Fan"    # optional: leave out what you are not sure of
    scoping_class = "CIM_ComputerSystem"   # optional (component profiles)
    scoping_path = ["CIM_SystemDevice"]    # optional: from the central class to the
                                 # scoping class, both left out: association,
                                 # class, association, ...
    reference_direction = "dmtf" # optional: dmtf | snia, how CIM_ReferencedProfile
                                 # links it to its scoping profile (default: from
                                 # the organization: DMTF dmtf, SNIA snia)
    source = "DSP1013"           # where the facts come from

Every error names the file and the line of the entry: ``FILE:LINE: message``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

__all__ = ["ProfileDef", "KnowledgeBase", "ProfileDefsError", "load_knowledge_base",
           "builtin_definitions", "TYPES", "DIRECTIONS", "ORGANIZATION_VALUES",
           "AUTONOMOUS", "COMPONENT", "SPECIFICATION"]

AUTONOMOUS, COMPONENT, SPECIFICATION = "autonomous", "component", "specification"
TYPES = (AUTONOMOUS, COMPONENT, SPECIFICATION)
DIRECTIONS = ("dmtf", "snia")
#: RegisteredOrganization values of the organizations whose reference
#: direction is known (CIM schema ValueMap: 2 DMTF, 11 SNIA); used when the
#: server's class carries no Values to name them
ORGANIZATION_VALUES = {"dmtf": 2, "snia": 11}
_KEYS = {"organization", "name", "versions", "type", "central_class", "scoping_class",
         "scoping_path", "reference_direction", "source"}
_CLASSNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*profile[ \t]*\]\]", re.MULTILINE)
_TOML_AT = re.compile(r"\(at line (\d+), column \d+\)")
BUILTIN = "wbemconform/data/profiles.toml"


class ProfileDefsError(ValueError):
    """A knowledge base file that cannot be used: one line, ``FILE:LINE: message``."""


@dataclass(frozen=True)
class ProfileDef:
    """One knowledge base entry."""

    organization: str
    name: str
    type: str
    versions: tuple = ()
    central_class: str | None = None
    scoping_class: str | None = None
    #: from the central class to the scoping class, both excluded
    scoping_path: tuple | None = None
    reference_direction: str | None = None
    source: str = ""
    #: where the entry was read: FILE:LINE
    origin: str = field(default="", compare=False)

    @property
    def label(self):
        versions = f" {'/'.join(self.versions)}" if self.versions else ""
        return f"{self.organization} {self.name}{versions}"

    def matches(self, organization, name, version) -> bool:
        if (organization or "").strip().lower() != self.organization.lower():
            return False
        if (name or "").strip().lower() != self.name.lower():
            return False
        return not self.versions or (version or "").strip() in self.versions

    @property
    def direction(self) -> str | None:
        """dmtf | snia | None: how CIM_ReferencedProfile links the profile to
        its scoping profile (pywbem's ``reference_direction``)."""
        if self.reference_direction:
            return self.reference_direction
        org = self.organization.lower()
        return org if org in DIRECTIONS else None

    @property
    def scoping_hops(self) -> list | None:
        """[(association class, far class)] from the central class up to the
        scoping class; None when the knowledge base does not know the way."""
        if self.scoping_path is None or not self.scoping_class:
            return None
        path = list(self.scoping_path)
        fars = path[1::2] + [self.scoping_class]
        return list(zip(path[0::2], fars))

    @property
    def down_hops(self) -> list | None:
        """[(association class, far class)] from the scoping class down to the
        central class (the scoping class methodology's way)."""
        if self.scoping_path is None or not self.central_class:
            return None
        path = list(reversed(self.scoping_path))
        fars = path[1::2] + [self.central_class]
        return list(zip(path[0::2], fars))


class KnowledgeBase:
    """The entries, user entries first; :meth:`find` is the first that matches."""

    def __init__(self, entries, files=()):
        self.entries = list(entries)
        self.files = list(files)

    def find(self, organization, name, version) -> ProfileDef | None:
        return next((d for d in self.entries if d.matches(organization, name, version)), None)

    def __len__(self):
        return len(self.entries)


def _line_of(text, index):
    """The line of the index-th [[profile]] header (1-based), or None."""
    heads = [text.count("\n", 0, m.start()) + 1 for m in _HEADER.finditer(text)]
    return heads[index] if index < len(heads) else None


def parse(text: str, where: str) -> list:
    """The entries of one knowledge base text; ProfileDefsError on any problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_AT.search(str(exc))
        msg = _TOML_AT.sub("", str(exc)).strip()
        raise ProfileDefsError(f"{where}:{found.group(1)}: {msg}" if found
                               else f"{where}: {msg}") from None
    unknown = set(data) - {"profile"}
    if unknown:
        raise ProfileDefsError(f"{where}: unknown top-level key(s) {', '.join(sorted(unknown))} "
                               "(expected [[profile]] tables)")
    entries = data.get("profile", [])
    if not isinstance(entries, list):
        raise ProfileDefsError(f"{where}: 'profile' must be an array of tables ([[profile]])")
    out = []
    for i, entry in enumerate(entries):
        line = _line_of(text, i)
        at = f"{where}:{line}" if line else f"{where}: profile #{i + 1}"
        out.append(_entry(entry, at))
    return out


def _entry(entry, at) -> ProfileDef:
    def bad(msg):
        raise ProfileDefsError(f"{at}: {msg}")

    if not isinstance(entry, dict):
        bad("a profile entry must be a table")
    unknown = set(entry) - _KEYS
    if unknown:
        bad(f"unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_KEYS))}")
    for key in ("organization", "name", "type"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            bad(f"'{key}' is required and must be a non-empty string")
    if entry["type"] not in TYPES:
        bad(f"type {entry['type']!r} is not one of {', '.join(TYPES)}")
    versions = entry.get("versions", [])
    if not isinstance(versions, list) or not all(isinstance(v, str) and v.strip()
                                                 for v in versions):
        bad("'versions' must be a list of version strings")
    classes = {}
    for key in ("central_class", "scoping_class"):
        value = entry.get(key)
        if value is not None and (not isinstance(value, str) or not _CLASSNAME.match(value)):
            bad(f"{key} {value!r} is not a CIM class name")
        classes[key] = value
    path = entry.get("scoping_path")
    if path is not None:
        if not isinstance(path, list) or not all(isinstance(c, str) and _CLASSNAME.match(c)
                                                 for c in path):
            bad("scoping_path must be a list of CIM class names")
        if len(path) % 2 != 1:
            bad(f"scoping_path has {len(path)} class name(s); it alternates association, "
                "class, association, ... from the central class to the scoping class, so it "
                "has an odd number of them")
        if not classes["scoping_class"]:
            bad("scoping_path needs scoping_class")
    if entry["type"] != COMPONENT and (path is not None):
        bad(f"a scoping path belongs to a component profile, not to an {entry['type']} one")
    direction = entry.get("reference_direction")
    if direction is not None and direction not in DIRECTIONS:
        bad(f"reference_direction {direction!r} is not one of {', '.join(DIRECTIONS)}")
    source = entry.get("source", "")
    if not isinstance(source, str):
        bad("'source' must be a string")
    return ProfileDef(entry["organization"].strip(), entry["name"].strip(), entry["type"],
                      tuple(v.strip() for v in versions), classes["central_class"],
                      classes["scoping_class"], tuple(path) if path is not None else None,
                      direction, source, origin=at)


@lru_cache(maxsize=1)
def builtin_definitions() -> tuple:
    text = resources.files("wbemconform").joinpath("data/profiles.toml").read_text("utf-8")
    return tuple(parse(text, BUILTIN))


def load_knowledge_base(user_file=None, option="--wbem-profile-defs") -> KnowledgeBase:
    """The built-in entries, after those of ``user_file`` (if given)."""
    entries, files = [], []
    if user_file:
        path = Path(user_file)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ProfileDefsError(f"{option} {user_file}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileDefsError(f"{option} {user_file}: cannot read it: "
                                   f"{getattr(exc, 'strerror', None) or exc}") from None
        entries += parse(text, str(user_file))
        files.append(str(user_file))
    entries += builtin_definitions()
    files.append(BUILTIN)
    return KnowledgeBase(entries, files)
