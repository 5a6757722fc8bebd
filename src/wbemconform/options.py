"""The ``--wbem-*`` and ``--conformance-*`` options: their types, their common
checks, and the ONE table every reader of them uses.

* :class:`TargetOptions` -- the target's options as data; :class:`Secret`
  holds a password; :func:`redact_url` shows a ``--wbem-url`` without its
  user name and password.
* :func:`check_common` -- the checks every target's options pass (timeout,
  workers, answer size); each opener (:mod:`wbemconform.targets`) adds its
  own rules. :func:`check_positive_seconds` reads a number of seconds.
* :data:`TABLE` -- one :class:`Option` row per command-line option, in the
  order ``--help`` lists them: name, pytest ``dest``, help, how argparse takes
  it (metavar/action/default/choices/type), its kinds, and the
  :class:`TargetOptions` field it fills. Readers: the pytest plugin
  (:func:`add_pytest_options`, :func:`target_options`, :func:`recorded`),
  the HTML report's Reproduce commands (:func:`reproduce_args`), the CLI
  (the name constants) and the tests' zoo (:func:`command_args`).

The kinds of a row (:func:`by_kind`):

``path``    its value is a path: recorded absolute (outputs are paths too);
``secret``  never recorded, never shown, never in a command line;
``output``  about the run's result files (or waivers), not what is checked:
            left out of Reproduce commands;
``mock``    read only by the embedded mock's opener;
``url``     read only by URL targets (``--wbem-url``);
``wsman``   read only by WS-Management targets (a ``url`` option too);
``plain``   none of the above.

A ``mock`` or ``url`` row given for a target that does not read it is a bad
option (:func:`given`), unless the row says ``exclusive=False``.

This module imports nothing of :mod:`wbemconform.targets` (which imports it).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from .option_types import Secret, redact_url

__all__ = ["Secret", "redact_url", "TargetOptions", "OptionError",
           "check_common", "check_positive_seconds", "parse_byte_size",
           "DEFAULT_MAX_RESPONSE_BYTES", "DEFAULT_WORKERS", "MAX_TIMEOUT", "KINDS",
           "PROTOCOLS", "AUTH_SCHEMES",
           "Option", "TABLE", "PYTEST_TABLE", "GROUPS", "by_kind", "by_name", "given",
           "add_options",
           "add_pytest_options", "target_options", "recorded", "reproduce_args",
           "command_args"]

#: The default of ``--wbem-max-response-bytes``: 16 MiB. pywbem's tuple tree
#: takes up to ~30 bytes of memory per byte of answer (measured on an answer
#: of empty INSTANCENAME elements), so 16 MiB stays under half a gigabyte on a
#: CI machine, while holding thousands of instances -- far more than any one
#: answer the suites ask for (the Interop namespace's profiles, one class's
#: instances, one association's traversal).
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024

#: The largest ``--wbem-timeout`` accepted (a day): bigger values are a typo,
#: and Python's waits cannot take unbounded ones.
MAX_TIMEOUT = 86400.0

#: operations a URL target may have under way at once (--wbem-workers)
DEFAULT_WORKERS = 4


class OptionError(ValueError):
    """An option's value cannot work (one line naming the option)."""


# -- values -----------------------------------------------------------------------------

_SIZE = re.compile(r"^\s*(\d+)\s*(|k|kb|kib|m|mb|mib|g|gb|gib)\s*$", re.I)


def parse_byte_size(text) -> int:
    """An int from ``16777216``, ``16M``, ``64MiB``, ``512k`` (1024-based);
    ValueError when it is none."""
    if isinstance(text, bool):
        raise ValueError("expected a number of bytes")
    if isinstance(text, int):
        return text
    m = _SIZE.match(str(text))
    if not m:
        raise ValueError("expected a number of bytes, optionally with K, M or G")
    unit = m.group(2).lower()[:1]
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[unit]


def check_positive_seconds(name, value):
    """A float option that must be a finite number > 0; ValueError naming it."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise OptionError(f"{name} {value!r}: expected a number of seconds > 0") from None
    if not math.isfinite(number) or number <= 0:
        raise OptionError(f"{name} {value!r}: expected a number of seconds > 0")
    return number


@dataclass
class TargetOptions:
    """The ``--wbem-*`` options, as data."""

    url: str | None = None
    user: str | None = None
    password: Secret | None = field(default=None, repr=False)  # a str is wrapped
    no_verify: bool = False
    ca_certs: str | None = None
    timeout: float = 30.0
    max_response_bytes: int | str = DEFAULT_MAX_RESPONSE_BYTES  # "64M" etc. accepted
    interop_namespace: str | None = None
    mock_mof: list = field(default_factory=list)
    mock_providers: list = field(default_factory=list)  # "NAME=FILE.py:CLASS"
    mock_quirks: list = field(default_factory=list)  # seeded broker defects (negative controls)
    mock_schema: str | None = None  # a DMTF CIM schema release (zip or folder)
    mock_dialect: str = "wmi"  # wmi | dmtf: how lenient the MOF loader is
    #: more folders ``#pragma include`` may read (wbemconform.mof: an include
    #: stays inside the MOF's folder tree, the schema folders and these)
    mock_include_roots: list = field(default_factory=list)
    mock_include_anywhere: bool = False  # includes may read any file (never quoted)
    workers: int = DEFAULT_WORKERS  # concurrent operations against a URL target
    flavor: str = "auto"
    profiles: list = field(default_factory=list)
    allow_writes: bool = False
    #: a profile knowledge base file (wbemconform.profiledefs) read before the built-in one
    profile_defs: str | None = None
    protocol: str = "auto"  # auto | cimxml | wsman: how --wbem-url is spoken to
    auth: str = "basic"  # basic | ntlm | negotiate | kerberos | credssp (WS-Management)
    #: "PREFIX=URI-base" rules: the resource URI of a class (WS-Management)
    resource_uris: list = field(default_factory=list)

    def __post_init__(self):
        if self.password is not None and not isinstance(self.password, Secret):
            self.password = Secret(self.password)

    def __repr__(self):  # the URL without user:password@; the password not at all
        shown = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                          if k not in ("password", "url"))
        return f"TargetOptions(url={redact_url(self.url) if self.url else None!r}, {shown})"


def check_common(options) -> None:
    """Raise :class:`OptionError` (one line naming the option and what is
    wrong) when an option every target reads cannot work. Each opener checks
    its own options after this (``wbemconform.targets.validate_options``)."""
    timeout = options.timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or \
            not math.isfinite(timeout) or not 0 < timeout <= MAX_TIMEOUT:
        raise OptionError(f"--wbem-timeout {timeout}: expected a number of seconds > 0 "
                          f"and at most {MAX_TIMEOUT:g}")
    workers = getattr(options, "workers", 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 64:
        raise OptionError(f"--wbem-workers {workers}: expected a whole number from 1 to 64")
    limit = getattr(options, "max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES)
    try:
        size = parse_byte_size(limit)
    except ValueError as exc:
        raise OptionError(f"--wbem-max-response-bytes {limit!r}: {exc}") from None
    if size < 1024:
        raise OptionError(f"--wbem-max-response-bytes {limit!r}: expected at least 1024 "
                          "bytes (no CIM-XML answer is smaller)")


# -- the table ----------------------------------------------------------------------------

KINDS = ("path", "secret", "output", "mock", "url", "wsman", "plain")
PROTOCOLS = ("auto", "cimxml", "wsman")
AUTH_SCHEMES = ("basic", "ntlm", "negotiate", "kerberos", "credssp")
_UNSET = object()  # an argparse setting the option does not pass


@dataclass(frozen=True)
class Option:
    """One command-line option (see the module docstring)."""

    name: str
    help: str
    kinds: tuple = ("plain",)
    metavar: str | None = None
    action: str | None = None
    default: Any = _UNSET
    choices: tuple | None = None
    type: Callable | None = None
    #: the TargetOptions field it fills (None: the run's or the plugin's own)
    field: str | None = None
    #: given for a target that does not read it (``mock``/``url``): a bad option
    exclusive: bool = True
    #: "both": pytest's plugin and ``wbemconform check``; "check": only the
    #: command (choosing a configuration, where results go), not pytest's
    scope: str = "both"
    #: the heading ``wbemconform check --help`` lists it under (None: by its kinds)
    group: str | None = None

    def __post_init__(self):
        assert set(self.kinds) <= set(KINDS), self.kinds
        assert self.scope in ("both", "check"), self.scope
        assert self.group is None or self.group in GROUPS, self.group

    @property
    def dest(self) -> str:
        """Where pytest keeps the value (``config.getoption(dest)``)."""
        return self.name.lstrip("-").replace("-", "_")

    @property
    def argparse_default(self):
        """The value when the option is not given."""
        if self.default is not _UNSET:
            return self.default
        return False if self.action == "store_true" else None

    def kwargs(self) -> dict:
        """The keyword arguments of argparse's ``add_argument`` / pytest's ``addoption``."""
        out = {"metavar": self.metavar, "action": self.action, "default": self.default,
               "choices": self.choices, "type": self.type}
        out = {k: v for k, v in out.items() if v is not None and v is not _UNSET}
        if self.default is None:  # given as None explicitly
            out["default"] = None
        return {**out, "help": self.help}

    def is_kind(self, kind) -> bool:
        return kind in self.kinds


_P, _O, _S = ("path",), ("output", "path"), ("secret", "url")

#: the headings of ``wbemconform check --help``, in order (a row without a
#: group of its own is listed by its kinds: mock, output, url, else "what is checked")
GROUPS = ("configuration", "target server", "limits", "what is checked", "embedded mock",
          "results")

URL = "--wbem-url"
PROTOCOL = "--wbem-protocol"
AUTH = "--wbem-auth"
RESOURCE_URI = "--wbem-resource-uri"
USER = "--wbem-user"
PASSWORD = "--wbem-password"
NO_VERIFY = "--wbem-no-verify"
CA_CERTS = "--wbem-ca-certs"
TIMEOUT = "--wbem-timeout"
RUN_TIMEOUT = "--wbem-run-timeout"
MAX_RESPONSE = "--wbem-max-response-bytes"
WORKERS = "--wbem-workers"
INTEROP = "--wbem-interop-namespace"
MOCK_MOF = "--wbem-mock-mof"
MOCK_PROVIDER = "--wbem-mock-provider"
MOCK_QUIRK = "--wbem-mock-quirk"
MOCK_SCHEMA = "--wbem-mock-schema"
MOCK_DIALECT = "--wbem-mock-dialect"
MOCK_INCLUDE_ROOT = "--wbem-mock-include-root"
MOCK_INCLUDE_ANYWHERE = "--wbem-mock-include-anywhere"
FLAVOR = "--wbem-flavor"
PROFILE = "--wbem-profile"
PROFILE_DEFS = "--wbem-profile-defs"
ALLOW_WRITES = "--wbem-allow-writes"
HYPOTHESIS_PROFILE = "--wbem-hypothesis-profile"
HYPOTHESIS_SEED = "--wbem-hypothesis-seed"
OPERATION_LOG = "--wbem-operation-log"
JSON = "--conformance-json"
REPORT = "--conformance-report"
WAIVERS = "--conformance-waivers"
STRICT = "--conformance-strict"
RESULTS_DIR = "--conformance-dir"
CONFIG = "--config"
TARGET = "--target"
HELP_PYTEST = "--help-pytest"

TABLE: tuple[Option, ...] = (
    Option(CONFIG, "read options from FILE: TOML with [target.NAME] tables (option names "
                   "without --), or pywbemcli's connections file (.yaml); the command line "
                   "wins", ("path",), metavar="FILE", scope="check", group="configuration"),
    Option(TARGET, "the named target of --config (without --config: a connection of "
                   "pywbemcli's connections file, ~/.pywbemcli_connections.yaml)",
           metavar="NAME", scope="check", group="configuration"),
    Option(URL, "WBEM server to test (http[s]://host[:port]); absent: the embedded mock",
           ("url",), metavar="URL", field="url"),
    Option(PROTOCOL, "how --wbem-url is spoken to: cimxml, wsman (WS-Management), or auto "
                     "(default: wsman when the URL's path is /wsman, else cimxml)", ("url",),
           choices=PROTOCOLS, default="auto", field="protocol"),
    Option(USER, "user name for the server", ("url",), metavar="USER", field="user"),
    Option(PASSWORD, "password (default: $WBEM_PASSWORD); never echoed", _S,
           metavar="PASSWORD", field="password"),
    Option(AUTH, "WS-Management authentication: basic (default; HTTPS, or HTTP on loopback), "
                 "ntlm, negotiate, kerberos or credssp (encrypted messages over HTTP)",
           ("url", "wsman"), choices=AUTH_SCHEMES, default="basic", field="auth"),
    Option(RESOURCE_URI, "WS-Management: classes whose name starts with PREFIX ('*': all) "
                         "are addressed as URI-base + class name (repeatable)",
           ("url", "wsman"), metavar="PREFIX=URI-base", action="append", default=[],
           field="resource_uris"),
    Option(NO_VERIFY, "do not verify the server's TLS certificate", ("url",),
           action="store_true", field="no_verify"),
    Option(CA_CERTS, "CA bundle to verify the server with", ("url", "path"), metavar="PATH",
           field="ca_certs"),
    Option(TIMEOUT, "bound on each whole operation: connect, send, receive, parse "
                    "(default 30)", metavar="SECONDS", default="30", field="timeout",
           group="limits"),
    Option(RUN_TIMEOUT, "bound on the whole run; once spent, nothing more is sent and the "
                        "run is ABORTED (default: none)", metavar="SECONDS", default=None,
           group="limits"),
    Option(MAX_RESPONSE, "largest answer accepted from --wbem-url (bytes; K, M, G = "
                         "1024-based; default 16M); a bigger one is a transport error, read "
                         "no further", metavar="BYTES", default=None,
           field="max_response_bytes", group="limits"),
    Option(WORKERS, f"operations a URL target may have under way at once, over separate "
                    f"connections (default {DEFAULT_WORKERS}; 1: one at a time); the verdicts, "
                    "the evidence and the operation log are the same whatever N, but for "
                    "what the server varies (README: Runs repeat)",
           metavar="N", type=int, default=DEFAULT_WORKERS, field="workers", group="limits"),
    Option(INTEROP, "the interop namespace (default: discovered)", metavar="NS",
           field="interop_namespace"),
    Option(MOCK_MOF, "MOF for the embedded mock, instead of the example profiles "
                     "(repeatable)", ("mock", "path"), metavar="PATH", action="append",
           default=[], field="mock_mof"),
    Option(MOCK_PROVIDER, "a Python provider for the mock's provider NAME (repeatable)",
           ("mock",), metavar="NAME=FILE.py:CLASS", action="append", default=[],
           field="mock_providers"),
    Option(MOCK_QUIRK, "switch on a seeded broker defect in the mock (negative controls; "
                       "see wbemconform.mock.broker.QUIRKS)", ("mock",), metavar="NAME",
           action="append", default=[], field="mock_quirks"),
    Option(MOCK_SCHEMA, "the mock takes classes from this DMTF CIM schema release (the "
                        "cim_schema_X.Y.ZFinal-MOFs.zip DMTF publishes, or its unpacked "
                        "folder) instead of its built-in subset", ("mock", "path"),
           metavar="PATH", field="mock_schema"),
    Option(MOCK_DIALECT, "how the mock reads MOF: wmi (default) or dmtf; wmi accepts "
                         "undeclared qualifiers and warns about a reference to a class that "
                         "exists nowhere, dmtf rejects both", ("mock",), choices=("wmi", "dmtf"),
           default="wmi", field="mock_dialect"),
    Option(MOCK_INCLUDE_ROOT, "a folder whose files the mock's #pragma include may read too "
                              "(repeatable; by default an include stays inside the MOF "
                              "file's folder tree, the schema folders and the current "
                              "folder)", ("mock", "path"), metavar="FOLDER", action="append",
           default=[], field="mock_include_roots"),
    Option(MOCK_INCLUDE_ANYWHERE, "let the mock's #pragma include read any file (its text "
                                  "is never shown in an error)", ("mock",),
           action="store_true", field="mock_include_anywhere"),
    Option(FLAVOR, "which requirements apply: wmi (Windows-style), dmtf, or auto (default)",
           choices=("auto", "wmi", "dmtf"), default="auto", field="flavor"),
    Option(PROFILE, "check only these registered profiles (repeatable)",
           metavar="NAME[:VERSION]", action="append", default=[], field="profiles"),
    Option(PROFILE_DEFS, "a TOML profile knowledge base (central class, scoping class and "
                         "path, autonomous or component) read before the built-in one", _P,
           metavar="FILE", field="profile_defs"),
    Option(ALLOW_WRITES, "allow write operations against --wbem-url (PR-5 needs them)",
           action="store_true", field="allow_writes"),
    Option(HYPOTHESIS_PROFILE, "hypothesis profile for the property-based suites (bounds "
                               "operations): ci (60 examples), dev (30), "
                               "thorough (2000); default: $HYPOTHESIS_PROFILE, else ci when "
                               "$CI is set, else dev", metavar="NAME", default=None),
    Option(HYPOTHESIS_SEED, "draw the property-based examples from seed N (default: the same "
                            "examples every run)", metavar="N", type=int, default=None),
    Option(OPERATION_LOG, "write every operation issued (JSON lines) to PATH", _O,
           metavar="PATH"),
    Option(JSON, "write the results as JSON to PATH", _O, metavar="PATH"),
    Option(REPORT, "write the HTML conformance report to PATH", _O, metavar="PATH"),
    Option(WAIVERS, "TOML or YAML waivers: listed failures become xfail (errors cannot be "
                    "waived)", _O, metavar="FILE"),
    Option(STRICT, "SHOULD/MAY failures are JUnit <failure>s too (default: skipped test "
                   "cases with verdict=fail; the gate and exit status are the same either "
                   "way)", ("output",), action="store_true"),
    Option(RESULTS_DIR, "write conformance.json, conformance.html and junit.xml into DIR "
                        "(default: reports/conformance.json and .html, no JUnit); "
                        "--conformance-json/-report/--junitxml still win", _O,
           metavar="DIR", scope="check"),
    Option(HELP_PYTEST, "pytest's own options (and these options' pytest form)",
           action="store_true", scope="check", group="configuration"),
)

#: the rows pytest's plugin declares (``scope="both"``), in table order
PYTEST_TABLE: tuple[Option, ...] = tuple(row for row in TABLE if row.scope == "both")

#: result files of other plugins: left out of Reproduce commands too
FOREIGN_OUTPUTS = ("--junitxml",)

_BY_NAME = {row.name: row for row in TABLE}


def by_name(name) -> Option:
    """The row of an option name (KeyError when it is none of ours)."""
    return _BY_NAME[name]


def by_kind(kind) -> tuple[str, ...]:
    """The names of the options of one kind, in table order."""
    if kind not in KINDS:
        raise ValueError(f"unknown option kind {kind!r}; known: {', '.join(KINDS)}")
    return tuple(row.name for row in TABLE if row.is_kind(kind))


_FIELD_DEFAULTS = {f.name: f.default for f in fields(TargetOptions) if f.default is not MISSING}


def _given_value(value, default) -> bool:
    if isinstance(value, Secret):
        return True  # a password given, even an empty one
    if isinstance(default, str) and default:  # a choice with a default: given when it differs
        return value != default
    return bool(value)


def given(options: TargetOptions, kind) -> list[str]:
    """The names of the exclusive options of ``kind`` that ``options`` give
    (for an opener's "only used with ..." rule), in table order."""
    return [row.name for row in TABLE
            if row.is_kind(kind) and row.exclusive and row.field is not None and
            _given_value(getattr(options, row.field, _FIELD_DEFAULTS.get(row.field)),
                         _FIELD_DEFAULTS.get(row.field))]


# -- readers ------------------------------------------------------------------------------

def add_options(add, rows=None) -> None:
    """Declare every option pytest's plugin reads (or ``rows``) with
    ``add(name, **kwargs)`` (argparse's ``add_argument`` or pytest's
    ``addoption``), in table order."""
    for row in PYTEST_TABLE if rows is None else rows:
        add(row.name, **row.kwargs())


def add_pytest_options(group) -> None:
    """Declare every option in a pytest option group (``parser.getgroup(...)``)."""
    add_options(group.addoption)


def _abspath(path):
    return os.path.abspath(os.path.expanduser(path)) if path else path


def _absolute(row, value):
    if not row.is_kind("path"):
        return value
    return [_abspath(v) for v in value] if isinstance(value, list) else _abspath(value)


def target_options(get: Callable[[str], Any]) -> TargetOptions:
    """The TargetOptions of a command line; ``get(name)`` is its value
    (``config.getoption``). Paths are made absolute; nothing is checked yet."""
    values = {}
    for row in PYTEST_TABLE:
        if row.field is None:
            continue
        value = _absolute(row, get(row.name))
        if row.field == "max_response_bytes":  # not given (or empty): the default
            value = value or DEFAULT_MAX_RESPONSE_BYTES
        values[row.field] = value
    return TargetOptions(**values)


def recorded(get: Callable[[str], Any]) -> dict:
    """The options as given, ``{name: value}`` in table order: paths made
    absolute, the URL without user and password, secrets never, defaults
    left out. The JSON document records this; :func:`reproduce_args` reads it."""
    out = {}
    for row in PYTEST_TABLE:
        if row.is_kind("secret"):
            continue
        value = get(row.name)
        if value in (None, [], False) or value == row.argparse_default:
            continue
        value = _absolute(row, value)
        if row.name == URL:
            value = redact_url(value)
        out[row.name] = value
    return out


def _args(pairs) -> list[str]:
    out = []
    for name, value in pairs:
        for item in value if isinstance(value, list) else [value]:
            out += [name] if item is True else [name, str(item)]
    return out


def reproduce_args(options: dict) -> list[str]:
    """Command-line arguments from recorded options (:func:`recorded`, the
    JSON document's ``options``): what is checked, not where results went."""
    left_out = set(by_kind("output")) | set(by_kind("secret")) | set(FOREIGN_OUTPUTS)
    return _args((name, value) for name, value in (options or {}).items()
                 if name.startswith("--") and name not in left_out)


def command_args(options: TargetOptions) -> list[str]:
    """Command-line arguments that give these TargetOptions (defaults left
    out, secrets never), in table order."""
    pairs = []
    for row in TABLE:
        if row.field is None or row.is_kind("secret"):
            continue
        value = getattr(options, row.field)
        default = _FIELD_DEFAULTS.get(row.field)
        if value in (None, [], False) or value == default:
            continue
        pairs.append((row.name, redact_url(value) if row.name == URL else value))
    return _args(pairs)
