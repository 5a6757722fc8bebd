"""The ``wbemconform`` command.

    wbemconform check [--config FILE --target NAME] [--wbem-* options] [pytest options]
    wbemconform requirements [--level MUST] [--flavor wmi] [--grep TEXT] [--json]
    wbemconform --version
    wbemconform report RESULTS.json [-o PATH] [--baseline OLD.json]
    wbemconform topology --from RESULTS.json [-o PATH.svg]
    wbemconform serve [--mof PATH ...] [--host 127.0.0.1] [--port 5988]
                      [--user U --password-env VAR [--auth basic,ntlm]]
                      [--certfile C [--keyfile K]]
                      [--schema ZIP] [--read-only] [--allow-unauthenticated-remote]
                      [--fault SPEC] [--quirk NAME ...]

``check`` runs the installed conformance suites through pytest (results in
reports/ unless told otherwise; see wbemconform.cli_check: its exit status is
the gate's, passed 0, failed 1, aborted 2). ``requirements`` lists the
catalog. ``report`` renders the HTML report of saved
``--conformance-json`` results (default output: RESULTS with an .html suffix). ``serve`` serves the embedded
mock (the example profiles, or the schema plus the given MOF) as a WBEM
server speaking CIM-XML, and WS-Management at /wsman, on loopback unless
told otherwise, until interrupted. A problem with an input -- a missing file, bad MOF, a port in
use -- is one line on stderr naming it, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

__all__ = ["main"]

EXIT_USAGE = 2


class _Fail(Exception):
    """One line for stderr."""


def _load(path, what):
    from .report import ReportError, validate_document
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _Fail(f"{path}: no such file") from None
    except IsADirectoryError:
        raise _Fail(f"{path}: is a folder, not a {what} file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _Fail(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Fail(f"{path}: not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") \
            from None
    try:
        validate_document(doc, str(path))
    except ReportError as exc:
        raise _Fail(str(exc)) from None
    return doc


def _parser():
    parser = argparse.ArgumentParser(
        prog="wbemconform", description="wbemconform: WBEM server conformance tools")
    parser.add_argument("-V", "--version", action="store_true",
                        help="print the versions of wbemconform, pywbem and pytest")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    sub.add_parser(
        "check", help="run the conformance suites (pytest options and --wbem-* options "
                      "follow; see wbemconform check --help)",
        description="Run the conformance suites: wbemconform check [--wbem-url URL ...] "
                    "[pytest options]. Results: reports/conformance.json and .html unless "
                    "--conformance-json / --conformance-report say otherwise.")
    req = sub.add_parser(
        "requirements", help="list the requirement catalog (what check judges)",
        description="List the requirement catalog: id, level, flavor, subject, statement, "
                    "source.")
    req.add_argument("--level", choices=("MUST", "SHOULD", "MAY"), type=str.upper,
                     help="only requirements of this level (on a target of --flavor, where "
                          "given)")
    req.add_argument("--flavor", choices=("dmtf", "wmi"),
                     help="only those that apply to a target of this flavor (dmtf ones apply "
                          "to every target), at that flavor's level")
    req.add_argument("--grep", metavar="TEXT",
                     help="only those whose id, statement or source contains TEXT (any case)")
    req.add_argument("--json", action="store_true", help="print JSON (a list of objects)")
    rep = sub.add_parser(
        "report", help="render the HTML conformance report of saved results",
        description="Render the HTML conformance report of results saved with "
                    "pytest --conformance-json.")
    rep.add_argument("results", metavar="RESULTS.json", help="the --conformance-json results")
    rep.add_argument("-o", "--output", metavar="PATH",
                     help="where to write the report (default: RESULTS with .html suffix)")
    rep.add_argument("--baseline", metavar="OLD.json",
                     help="earlier results: the report starts with what regressed, what got "
                          "fixed and what is new")
    top = sub.add_parser(
        "topology", help="draw the topology picture (SVG) of saved results",
        description="Draw the topology picture of results saved with --conformance-json: "
                    "profiles, association classes, element classes per namespace, the "
                    "profile graph; failing or one-way links in red.")
    top.add_argument("--from", dest="results", metavar="RESULTS.json", required=True,
                     help="the --conformance-json results")
    top.add_argument("-o", "--output", metavar="PATH",
                     help="where to write the SVG (default: RESULTS with .svg suffix)")
    srv = sub.add_parser(
        "serve", help="serve the embedded mock over CIM-XML and WS-Management, HTTP(S)",
        description="Serve the embedded WMI-style mock as a WBEM server (CIM-XML over "
                    "HTTP or HTTPS, and WS-Management at /wsman) until interrupted.")
    srv.add_argument("--mof", metavar="PATH", action="append", default=[],
                     help="MOF to load after the schema instead of the example profiles "
                          "(repeatable)")
    srv.add_argument("--provider", metavar="NAME=FILE.py:CLASS", action="append", default=[],
                     help="a Python provider for provider NAME (repeatable)")
    srv.add_argument("--host", default="127.0.0.1",
                     help="address to bind (default 127.0.0.1: loopback only); an address "
                          "that is not loopback needs --user, or "
                          "--allow-unauthenticated-remote")
    srv.add_argument("--port", type=int, default=5988, help="port (default 5988; 0: any free)")
    srv.add_argument("--user", help="require HTTP Basic authentication as USER")
    srv.add_argument("--password-env", metavar="VAR",
                     help="environment variable holding the password for --user")
    srv.add_argument("--auth", metavar="SCHEMES", default="basic",
                     help="what WS-Management (/wsman) accepts from --user: basic, ntlm or "
                          "basic,ntlm (default basic); NTLM comes with WinRM's message "
                          "encryption over HTTP. CIM-XML stays Basic")
    srv.add_argument("--certfile", help="serve HTTPS with this certificate (PEM)")
    srv.add_argument("--keyfile", help="its private key (PEM), if not in --certfile")
    srv.add_argument("--read-only", action="store_true",
                     help="refuse every write operation (Create/Modify/Delete Instance and "
                          "Class, SetQualifier, DeleteQualifier, and every extrinsic method "
                          "but GetCentralInstances, which only reads) with "
                          "CIM_ERR_ACCESS_DENIED")
    srv.add_argument("--schema", metavar="PATH",
                     help="take classes from this DMTF CIM schema release (the zip DMTF "
                          "publishes, or its unpacked folder) instead of the built-in subset")
    srv.add_argument("--allow-unauthenticated-remote", action="store_true",
                     help="serve an address that is not loopback without --user (anyone "
                          "who reaches it can read and, unless --read-only, change the mock)")
    srv.add_argument("--fault", metavar="[after:N:]KIND",
                     help="misbehave on purpose, for testing clients; KIND is one of: "
                          + "; ".join(f"{kind}: {what}" for kind, what in _fault_help().items())
                          + "; after:N: lets the first N requests through first")
    srv.add_argument("--quirk", metavar="NAME", action="append", default=[],
                     help="switch on a seeded CIMOM defect, for negative controls "
                          "(repeatable); NAME is one of: "
                          + "; ".join(f"{name}: {what}" for name, what in _quirk_help().items()))
    return parser


def _quirk_help():
    from .mock.broker import QUIRKS
    return QUIRKS


def _fault_help():
    from .server import FAULT_HELP
    return FAULT_HELP


def _serve(args):
    import os
    import signal
    import threading

    from .mock import MofLoadError, connect
    from .targets.mock import load_mock_providers
    from .server import WSMAN_PREFIX, default_apps, serve
    from .targets import TargetSetupError

    password = None
    if not 0 <= args.port <= 65535:
        raise _Fail(f"--port {args.port}: not a TCP port number; give 0 to 65535 (0: any "
                    "free port)")
    if args.user is not None and not args.user:
        raise _Fail("--user: the user name is empty")
    if args.password_env and not args.user:
        raise _Fail(f"--password-env {args.password_env} needs --user USER: without a user "
                    "the server would ask for no password at all")
    if args.user:
        if not args.password_env:
            raise _Fail("--user needs --password-env VAR (passwords are not taken on the "
                        "command line)")
        password = os.environ.get(args.password_env)
        if password is None:
            raise _Fail(f"--password-env {args.password_env}: the variable is not set")
        if not password:
            raise _Fail(f"--password-env {args.password_env}: the variable is empty; an "
                        "empty password is not accepted")
    from .server.wsman_auth import parse_auth_schemes
    try:
        schemes = parse_auth_schemes(args.auth)
    except ValueError as exc:
        raise _Fail(f"--auth {args.auth}: {exc}") from None
    if "ntlm" in schemes and not args.user:
        raise _Fail(f"--auth {args.auth}: NTLM needs --user and --password-env")
    from .server import is_loopback
    if not args.user and not args.allow_unauthenticated_remote and \
            is_loopback(args.host) is False:
        raise _Fail(f"--host {args.host or '(all interfaces)'} is not a loopback address: "
                    "refusing to serve it without authentication; give --user and "
                    "--password-env, or --allow-unauthenticated-remote")
    for path in args.mof:
        if not Path(path).is_file():
            raise _Fail(f"--mof {path}: no such file")
    unknown = sorted(set(args.quirk) - set(_quirk_help()))
    if unknown:
        raise _Fail(f"--quirk {unknown[0]}: no such mock quirk; known: "
                    + ", ".join(sorted(_quirk_help())))
    try:
        providers = load_mock_providers(args.provider)
        if args.schema and not Path(args.schema).exists():
            raise _Fail(f"--schema {args.schema}: no such file or folder")
        conn = connect(args.mof or None, providers=providers, schema=args.schema,
                       quirks=args.quirk)
    except (MofLoadError, TargetSetupError) as exc:
        raise _Fail(str(exc)) from None
    try:
        server = serve(conn, host=args.host, port=args.port, user=args.user or None,
                       password=password, certfile=args.certfile, keyfile=args.keyfile,
                       fault=args.fault, read_only=args.read_only,
                       allow_unauthenticated_remote=args.allow_unauthenticated_remote,
                       apps=default_apps(), auth=schemes)
    except (OSError, ValueError) as exc:
        raise _Fail(f"cannot serve on {args.host}:{args.port}: {exc}") from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    mode = ("read-only, " if args.read_only else "") + \
        "".join(f"quirk {q}, " for q in dict.fromkeys(args.quirk))
    print(f"wbemconform: serving the mock at {server.url} ({mode}interop namespace "
          f"root/interop; WS-Management at {server.url}{WSMAN_PREFIX}"
          f"{' (' + ', '.join(schemes) + ')' if args.user else ''}); Ctrl-C stops", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
    return 0


def _requirements(args):
    from .catalog import catalog
    rows = []
    for req in catalog().values():
        level = req.level_for(args.flavor) if args.flavor else req.level
        if args.flavor and req.flavor not in ("dmtf", args.flavor):
            continue
        if args.level and level != args.level:
            continue
        text = f"{req.id} {req.statement} {req.source}".lower()
        if args.grep and args.grep.lower() not in text:
            continue
        rows.append({"id": req.id, "level": level, "flavor": req.flavor,
                     "subject": req.subject, "statement": req.statement,
                     "source": req.source, "writes": req.writes,
                     **({"wmi_level": req.wmi_level} if req.wmi_level else {})})
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for row in rows:
        wmi = f" (wmi: {row['wmi_level']})" if "wmi_level" in row and not args.flavor else ""
        print(f"{row['id']:6} {row['level']:6} {row['flavor']:4} {row['subject']:11} "
              f"{row['statement']}{wmi} [{row['source']}]")
    if not rows:
        print("wbemconform: no requirement matches", file=sys.stderr)
        return 1
    return 0


def _report(args):
    from .report import ReportError, write_report
    doc = _load(args.results, "results")
    baseline = _load(args.baseline, "baseline") if args.baseline else None
    out = Path(args.output) if args.output else Path(args.results).with_suffix(".html")
    try:
        write_report(doc, out, baseline=baseline)
    except ReportError as exc:
        raise _Fail(str(exc)) from None
    except OSError as exc:
        raise _Fail(f"{out}: cannot write: {exc.strerror or exc}") from None
    print(f"report: {out}")
    return 0


def _topology(args):
    """``wbemconform topology --from RESULTS.json [-o PATH]``: the report's
    topology picture alone, as an SVG file."""
    from .atomic import write_text
    from .topology_svg import render_svg
    doc = _load(args.results, "results")
    svg = render_svg(doc)
    if not svg:
        raise _Fail(f"{args.results}: the results hold no topology (written by an older "
                    "wbemconform, or the run could not use the target)")
    out = Path(args.output) if args.output else Path(args.results).with_suffix(".svg")
    try:
        write_text(out, svg + "\n")
    except OSError as exc:
        raise _Fail(f"{out}: cannot write: {exc.strerror or exc}") from None
    print(f"topology: {out}")
    return 0


def _check(argv):
    """``wbemconform check``: see wbemconform.cli_check."""
    from .cli_check import main as check
    return check(argv)


def _version():
    from importlib.metadata import PackageNotFoundError, version
    try:
        mine = version("wbemconform")
    except PackageNotFoundError:
        mine = "unknown (not installed)"
    return f"wbemconform {mine} (pywbem {version('pywbem')}, pytest {version('pytest')})"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["check"]:
        return _check(argv[1:])
    if argv[:1] in (["--version"], ["-V"]):
        print(_version())
        return 0
    args = _parser().parse_args(argv)
    try:
        if args.command == "report":
            return _report(args)
        if args.command == "requirements":
            try:
                return _requirements(args)
            except BrokenPipeError:  # `| head`: the reader has what it wanted
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return 0
        if args.command == "serve":
            return _serve(args)
        if args.command == "topology":
            return _topology(args)
    except _Fail as exc:
        print(f"wbemconform: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_USAGE  # pragma: no cover (argparse rejects unknown commands)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
