"""Targets: what the suites run against.

A :class:`Target` wraps a pywbem ``WBEMConnection`` (a real server over
CIM-XML, or the embedded mock) behind one method, :meth:`Target.call`, so
that the checks never touch the transport: every operation is logged
(for evidence, operation counts and the write audit), bounded by a timeout,
and classified -- a CIM error is an *answer* the checks judge, while a
transport failure (unreachable, refused credentials, garbage, timeout) is a
:class:`ServerError`, which makes a verdict ``error``, never ``fail``.
Writes are refused before they are sent unless the target allows them.
Another transport can be added by giving :class:`Target` another
connection object with pywbem's operation methods.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import pywbem
from pywbem import CIMError

__all__ = ["TargetOptions", "Target", "ServerError", "WriteRefused", "TargetSetupError",
           "open_target", "redact_url", "validate_options", "WRITE_OPERATIONS", "Call"]

WRITE_OPERATIONS = frozenset({
    "CreateInstance", "ModifyInstance", "DeleteInstance", "CreateClass",
    "ModifyClass", "DeleteClass", "SetQualifier", "DeleteQualifier", "InvokeMethod"})

_TRANSPORT_ERRORS = (pywbem.ConnectionError, pywbem.AuthError, pywbem.HTTPError,
                     pywbem.TimeoutError, pywbem.ParseError, pywbem.VersionError,
                     pywbem.HeaderParseError, pywbem.CIMXMLParseError, pywbem.XMLParseError)


class TargetSetupError(Exception):
    """The target cannot be used at all (bad option, unreachable, bad MOF)."""


class ServerError(Exception):
    """The server misbehaved at the transport level: not a conformance verdict."""

    def __init__(self, target, operation, exc):
        self.target = target
        self.operation = operation
        self.kind = type(exc).__name__
        text = str(exc)
        super().__init__(f"{target}: {operation} failed: {self.kind}: {text}")


class WriteRefused(Exception):
    """A write operation was attempted against a target that does not allow writes."""


def redact_url(url: str) -> str:
    """The URL with any user name or password removed."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


@dataclass
class TargetOptions:
    """The ``--wbem-*`` options, as data."""

    url: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    no_verify: bool = False
    ca_certs: str | None = None
    timeout: float = 30.0
    interop_namespace: str | None = None
    mock_mof: list = field(default_factory=list)
    mock_providers: list = field(default_factory=list)  # "NAME=FILE.py:CLASS"
    mock_quirks: list = field(default_factory=list)  # seeded broker defects (negative controls)
    mock_schema: str | None = None  # a DMTF CIM schema release (zip or folder)
    mock_dialect: str = "wmi"  # wmi | dmtf: how lenient the MOF loader is
    flavor: str = "auto"
    profiles: list = field(default_factory=list)
    allow_writes: bool = False
    #: a profile knowledge base file (wbemconform.profiledefs) read before the built-in one
    profile_defs: str | None = None

    @property
    def is_mock(self) -> bool:
        return not self.url


@dataclass
class Call:
    """One operation as issued: the evidence unit."""

    operation: str
    args: dict
    outcome: str  # "ok" | "cim-error" | "server-error" | "refused"
    summary: str
    seconds: float
    requirement: str | None = None
    status_code: int | None = None


def _summary(value, limit=6):
    if value is None:
        return "nothing"
    if isinstance(value, list):
        items = [_summary(v) for v in value[:limit]]
        more = f", ... ({len(value)} in all)" if len(value) > limit else ""
        return f"{len(value)} object(s): [" + ", ".join(items) + more + "]"
    if isinstance(value, pywbem.CIMInstance):
        return str(value.path) if value.path is not None else value.classname
    if isinstance(value, pywbem.CIMClass):
        return f"class {value.classname}"
    if hasattr(value, "paths") or hasattr(value, "instances"):
        return _summary(getattr(value, "paths", None) or getattr(value, "instances", None) or [])
    return str(value)


def describe_args(args, kwargs):
    out = {}
    for i, a in enumerate(args):
        out[f"arg{i}"] = str(a)
    for k, v in kwargs.items():
        if v is not None:
            out[k] = str(v) if not isinstance(v, (bool, int, float)) else v
    return out


class Target:
    """A connection plus the rules every call obeys (see module docstring)."""

    def __init__(self, conn, description, *, is_mock, allow_writes,
                 load_failures=(), options=None, load_warnings=()):
        self.conn = conn
        self.description = description
        self.is_mock = is_mock
        self.allow_writes = allow_writes
        self.load_failures = list(load_failures)  # MofLoadError texts (mock only)
        self.load_warnings = list(load_warnings)  # what loaded but looks wrong (mock only)
        self.options = options or TargetOptions()
        self.calls: list[Call] = []
        self.current_requirement = None
        #: the first transport failure: after it, no operation is sent any more
        #: (every check that still needs the server ends at once, as an error)
        self.failure: ServerError | None = None
        #: called with the operation's name before anything is sent; a
        #: ServerError it raises (e.g. the run budget is spent) ends the target
        self.before_call = None

    def __str__(self):
        return self.description

    def call(self, operation, *args, **kwargs):
        """Issue one operation. Returns its result; raises CIMError (an
        answer), ServerError (transport) or WriteRefused."""
        desc = describe_args(args, kwargs)
        if operation in WRITE_OPERATIONS and not self.allow_writes:
            self.calls.append(Call(operation, desc, "refused", "not sent: writes not allowed",
                                   0.0, self.current_requirement))
            raise WriteRefused(f"{operation} not sent to {self}: writes are not allowed "
                               "(use --wbem-allow-writes)")
        if self.failure is not None:
            self.calls.append(Call(operation, desc, "server-error",
                                   "not sent: the server failed earlier", 0.0,
                                   self.current_requirement))
            raise self.failure
        if self.before_call is not None:
            try:
                self.before_call(operation)
            except ServerError as exc:
                self.calls.append(Call(operation, desc, "server-error", f"not sent: {exc}",
                                       0.0, self.current_requirement))
                self.failure = exc
                raise
        start = time.perf_counter()
        try:
            result = getattr(self.conn, operation)(*args, **kwargs)
        except CIMError as exc:
            self.calls.append(Call(operation, desc, "cim-error",
                                   f"{exc.status_code_name}: {exc.status_description}",
                                   time.perf_counter() - start, self.current_requirement,
                                   exc.status_code))
            raise
        except _TRANSPORT_ERRORS as exc:
            self.calls.append(Call(operation, desc, "server-error",
                                   f"{type(exc).__name__}: {exc}",
                                   time.perf_counter() - start, self.current_requirement))
            self.failure = ServerError(self.description, operation, exc)
            raise self.failure from None
        self.calls.append(Call(operation, desc, "ok", _summary(result),
                               time.perf_counter() - start, self.current_requirement))
        return result


def _remote_namespace_error(exc) -> bool:
    return "remote" in str(exc) and "MSFT_TargetNamespace" in str(exc)


def validate_options(options: TargetOptions) -> None:
    """TargetSetupError (one line naming the option) for option values that
    cannot work, before anything is opened."""
    if options.url is not None:
        shown = redact_url(options.url) if "://" in options.url else options.url
        try:
            parts = urlsplit(options.url)
            parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
        except ValueError as exc:
            raise TargetSetupError(f"--wbem-url {shown!r}: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetSetupError(f"--wbem-url {shown!r}: expected http://HOST[:PORT] "
                                   "or https://HOST[:PORT]")


def open_target(options: TargetOptions) -> Target:
    """Connect to the target the options name; TargetSetupError on bad input."""
    if options.is_mock:
        return _open_mock(options)
    return _open_url(options)


def _open_mock(options):
    from .mock import MofLoadError, connect, default_profile_files
    files = [os.path.abspath(f) for f in options.mock_mof] or None
    for f in files or ():
        if not os.path.isfile(f):
            raise TargetSetupError(f"--wbem-mock-mof {f}: no such file")
    shown = ", ".join(os.path.basename(f) for f in (files or default_profile_files()))
    description = f"embedded mock ({shown})" + (
        f" with seeded defects {', '.join(options.mock_quirks)}" if options.mock_quirks else "")
    providers = load_mock_providers(options.mock_providers)
    from .mock.broker import QUIRKS
    unknown = set(options.mock_quirks) - set(QUIRKS)
    if unknown:
        raise TargetSetupError(f"--wbem-mock-quirk {', '.join(sorted(unknown))}: unknown; "
                               f"known: {', '.join(sorted(QUIRKS))}")
    quirks = list(options.mock_quirks)
    failures = []
    extra = {"schema": options.mock_schema, "dialect": options.mock_dialect}
    if options.mock_schema and not os.path.exists(options.mock_schema):
        raise TargetSetupError(f"--wbem-mock-schema {options.mock_schema}: no such file or folder")
    try:
        conn = connect(files, providers=providers, quirks=quirks, **extra)
    except MofLoadError as exc:
        if not _remote_namespace_error(exc):
            raise TargetSetupError(str(exc)) from None
        # A conformance problem (EC-4), not a broken file: record it and load
        # the MOF the way its author meant the namespace, so that every other
        # requirement can still be observed.
        failures.append(str(exc))
        try:
            conn = connect(files, providers=providers, quirks=quirks,
                           accept_remote_target_namespaces=True, **extra)
        except MofLoadError as exc2:
            raise TargetSetupError(str(exc2)) from None
    if options.mock_schema:
        description += f" on {os.path.basename(options.mock_schema)}"
    return Target(conn, description, is_mock=True, allow_writes=True,
                  load_failures=failures, options=options,
                  load_warnings=list(getattr(conn, "load_warnings", ())))


def load_mock_providers(specs):
    """{provider Name: class} from "NAME=FILE.py:CLASS" strings."""
    import importlib.util
    out = {}
    for spec in specs or ():
        name, eq, rest = spec.partition("=")
        path, colon, cls = rest.rpartition(":")
        if not (eq and colon and name.strip() and cls.strip()):
            raise TargetSetupError(f"--wbem-mock-provider {spec!r}: expected NAME=FILE.py:CLASS")
        if not os.path.isfile(path):
            raise TargetSetupError(f"--wbem-mock-provider {spec!r}: no such file {path}")
        mod_name = "wbemconform_provider_" + os.path.splitext(os.path.basename(path))[0]
        module_spec = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(module_spec)
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:  # the user's code: report it, do not crash
            raise TargetSetupError(f"--wbem-mock-provider {spec!r}: {path} failed to "
                                   f"import: {type(exc).__name__}: {exc}") from None
        factory = getattr(module, cls.strip(), None)
        if factory is None:
            raise TargetSetupError(f"--wbem-mock-provider {spec!r}: {path} has no {cls.strip()}")
        out[name.strip()] = factory
    return out


def _open_url(options):
    parts = urlsplit(options.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetSetupError(f"--wbem-url {redact_url(options.url)!r}: expected "
                               "http://HOST[:PORT] or https://HOST[:PORT]")
    user = options.user or parts.username
    password = options.password
    if password is None:
        password = os.environ.get("WBEM_PASSWORD")
    if password is None and parts.password is not None:
        password = parts.password
    creds = (user, password or "") if user else None
    verify = not options.no_verify
    if options.ca_certs:
        if not os.path.exists(options.ca_certs):
            raise TargetSetupError(f"--wbem-ca-certs {options.ca_certs}: no such file")
    url = redact_url(options.url)
    conn = pywbem.WBEMConnection(
        url, creds, default_namespace=options.interop_namespace or "root/interop",
        no_verification=not verify, ca_certs=options.ca_certs,
        timeout=options.timeout)
    return Target(conn, url, is_mock=False, allow_writes=options.allow_writes,
                  options=options)
