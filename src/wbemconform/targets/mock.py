"""The embedded mock as a suite target (no ``--wbem-url``): its option rules
(``--wbem-mock-*``; the URL options are refused), its opener and its load
findings. The mock itself (:mod:`wbemconform.mock`) knows nothing of targets.

Declared capabilities: ``load-findings`` and the protocol's own
(``pull-operations``, ``class-retrieval``, ``class-enumeration``,
``exact-fault-codes``) always; ``writes``,
``class-definitions`` and ``scratch-instances`` when writes are allowed (the
opener always allows them: the mock is loaded fresh for the run).
"""

from __future__ import annotations

import importlib.util
import os

from .. import interrupts
from ..mock import MofLoadError, connect, default_profile_files
from ..mock.broker import QUIRKS
from ..mof import default_include_roots
from ..options import given
from .base import PROTOCOL_CAPABILITIES, Target, TargetSetupError

__all__ = ["NAME", "claims", "validate", "open", "mock_target", "load_mock_providers",
           "TLS_DESCRIPTION"]

NAME = "the embedded mock"
TLS_DESCRIPTION = "tls: none (the embedded mock)"


def claims(options) -> bool:
    """Whether these options name the embedded mock (no ``--wbem-url``)."""
    return not options.url


def validate(options) -> None:
    """TargetSetupError (one line) when options only a URL target reads are given."""
    unused = given(options, "url")
    if unused:
        raise TargetSetupError(f"{', '.join(unused)}: only used with --wbem-url, and no "
                               "--wbem-url is given (the target is the embedded mock)")


def mock_target(conn, description, *, allow_writes=True, options=None, load_failures=(),
                load_warnings=()) -> Target:
    """A Target over a mock connection (or any pywbem_mock connection), with
    the mock's capabilities declared."""
    capabilities = {"writes", "class-definitions", "load-findings", "scratch-instances"} \
        if allow_writes else {"load-findings"}
    capabilities |= PROTOCOL_CAPABILITIES
    target = Target(conn, description, capabilities=capabilities, options=options,
                    tls_description=TLS_DESCRIPTION, load_failures=load_failures,
                    load_warnings=load_warnings)
    target.protocol, target.auth = "embedded mock", "none"
    # pywbem_mock gives the paths it returns a made-up host (//FakedUrl:5988/)
    target.placeholder_host = getattr(conn, "host", None)
    return target


def open(options) -> Target:  # every opener's entry point is open()
    """A Target over a freshly loaded mock; TargetSetupError (one line) on bad input.

    The MOF is loaded once, leniently: an MSFT_TargetNamespace naming a remote
    machine -- a conformance problem (EC-4), not a broken file -- is recorded
    as a load finding and the namespace is taken as its author meant it, so
    that every other requirement can still be observed. The server is strict
    again afterwards: a class defined later is refused as WMI refuses it.
    """
    files = [os.path.abspath(f) for f in options.mock_mof] or None
    for f in files or ():
        if not os.path.isfile(f):
            raise TargetSetupError(f"--wbem-mock-mof {f}: no such file")
    unknown = set(options.mock_quirks) - set(QUIRKS)
    if unknown:
        raise TargetSetupError(f"--wbem-mock-quirk {', '.join(sorted(unknown))}: unknown; "
                               f"known: {', '.join(sorted(QUIRKS))}")
    if options.mock_schema and not os.path.exists(options.mock_schema):
        raise TargetSetupError(f"--wbem-mock-schema {options.mock_schema}: no such file or folder")
    providers = load_mock_providers(options.mock_providers)
    try:
        with interrupts.interruptible():  # compiling MOF in pywbem can take seconds
            conn = connect(files, providers=providers, quirks=list(options.mock_quirks),
                           accept_remote_target_namespaces=True, schema=options.mock_schema,
                           dialect=options.mock_dialect,
                           include_roots=_include_roots(options),
                           allow_include_outside=options.mock_include_anywhere)
    except MofLoadError as exc:
        raise TargetSetupError(str(exc)) from None
    conn.broker.reject_remote_classes = True
    shown = ", ".join(os.path.basename(f) for f in (files or default_profile_files()))
    description = f"embedded mock ({shown})"
    if options.mock_schema:
        description += f" on {os.path.basename(options.mock_schema)}"
    if options.mock_quirks:
        description += f" with seeded defects {', '.join(options.mock_quirks)}"
    return mock_target(conn, description, allow_writes=True, options=options,
                       load_failures=[str(f) for f in conn.load_findings],
                       load_warnings=[str(w) for w in conn.load_warnings])


def _include_roots(options):
    """The loader's include roots: its defaults plus --wbem-mock-include-root."""
    extra = [os.path.abspath(r) for r in options.mock_include_roots]
    for root in extra:
        if not os.path.isdir(root):
            raise TargetSetupError(f"--wbem-mock-include-root {root}: no such folder")
    return list(default_include_roots()) + extra


def load_mock_providers(specs):
    """{provider Name: class} from "NAME=FILE.py:CLASS" strings
    (``--wbem-mock-provider``, and ``wbemconform serve --provider``)."""
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
