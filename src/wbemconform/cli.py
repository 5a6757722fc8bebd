"""The ``wbemconform`` command.

    wbemconform report RESULTS.json [-o PATH] [--baseline OLD.json]

renders the HTML report of saved ``--conformance-json`` results (default
output: RESULTS with an .html suffix). A problem with an input -- missing,
not JSON, not a results document -- is one line on stderr naming the file,
and exit status 2.
"""

from __future__ import annotations

import argparse
import json
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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
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
    return parser


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


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.command == "report":
            return _report(args)
    except _Fail as exc:
        print(f"wbemconform: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_USAGE  # pragma: no cover (argparse rejects unknown commands)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
