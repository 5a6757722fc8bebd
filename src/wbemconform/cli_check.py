"""``wbemconform check``: the conformance suites as a command of their own.

The command reads its options first -- every row of
:data:`wbemconform.options.TABLE`, the ``--config``/``--target`` values
under them, ``--junitxml`` -- and hands pytest the rest. What it adds to
``pytest --pyargs wbemconform.suites``:

* its own ``--help`` (the table, grouped; pytest's behind ``--help-pytest``);
* one exit status per gate: passed 0, failed 1, aborted 2 -- a usage error
  (a bad value, an unknown option, a ``--config`` problem) too, through the
  same ABORTED path: one line on stderr naming the option and what is wrong,
  and the JSON, HTML (and JUnit, where asked for) written with gate ABORTED;
* a password prompt when a user is given without a password on a terminal
  (never echoed, never in an argument list or the environment: pytest gets
  it through its parsed options); one line and ABORTED elsewhere;
* ``--conformance-dir DIR``; no ``.pytest_cache`` and no ``.hypothesis`` in
  the current folder (hypothesis stores in the user's cache folder).
"""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import sys
import textwrap
import time

import pytest

from .options import (AUTH, CONFIG, GROUPS, HELP_PYTEST, JSON, PASSWORD, PYTEST_TABLE, REPORT,
                      RESULTS_DIR, TABLE, TARGET, URL, USER, redact_url)

__all__ = ["main", "help_text", "parser", "Usage", "EXIT_PASSED", "EXIT_FAILED",
           "EXIT_ABORTED", "DEFAULT_OUTPUTS", "DIR_FILES"]

EXIT_PASSED, EXIT_FAILED, EXIT_ABORTED = 0, 1, 2
JUNIT = "--junitxml"
#: where results go without --conformance-json/-report/--conformance-dir (no JUnit)
DEFAULT_OUTPUTS = {JSON: "reports/conformance.json", REPORT: "reports/conformance.html"}
#: the files --conformance-dir DIR holds
DIR_FILES = {JSON: "conformance.json", REPORT: "conformance.html", JUNIT: "junit.xml"}
#: WS-Management schemes that can authenticate without a password (a Kerberos ticket)
_NO_PASSWORD_NEEDED = ("kerberos", "negotiate")
_OUTPUT_NAMES = (JSON, REPORT, RESULTS_DIR, JUNIT, "--junit-xml")


class Usage(Exception):
    """A usage problem: one line, no traceback; the run is ABORTED (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Usage(message)


def _dest(name):
    return name.lstrip("-").replace("-", "_")


def parser() -> argparse.ArgumentParser:
    """The command's own options: the table's rows, and ``--junitxml`` (to
    know where JUnit goes); only what is given lands in the namespace."""
    p = _Parser(prog="wbemconform check", add_help=False, allow_abbrev=False)
    p.add_argument("-h", "--help", action="store_true", default=argparse.SUPPRESS)
    for row in TABLE:
        p.add_argument(row.name, **{**row.kwargs(), "default": argparse.SUPPRESS})
    p.add_argument(JUNIT, "--junit-xml", dest="junitxml", metavar="PATH",
                   default=argparse.SUPPRESS)
    return p


# -- help ---------------------------------------------------------------------------------

def _group_of(row):
    if row.group:
        return row.group
    for kind, group in (("mock", "embedded mock"), ("output", "results"),
                        ("url", "target server")):
        if row.is_kind(kind):
            return group
    return "what is checked"


def _short(text):
    """The help's first clause: up to the first '; ' outside parentheses, its
    long parentheses left out (--help-pytest and the README give them whole)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                out.append(text[start:i])
                start = i
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if depth == 0:
                aside = text[start:i + 1]
                out.append(aside if len(aside) <= 26 else "")
                start = i + 1
        elif depth == 0 and text.startswith("; ", i):
            break
    else:
        i = len(text)
    out.append(text[start:i] if depth == 0 else "")
    return " ".join("".join(out).split()).replace(" ,", ",")


def help_text(width=None) -> str:
    """``wbemconform check --help``: the table, grouped, one clause per option."""
    width = max(80, min(width or shutil.get_terminal_size((100, 24)).columns, 110))
    col = 34
    out = ["usage: wbemconform check [OPTIONS] [pytest options]", "",
           "Check a WBEM server (--wbem-url) or the embedded mock against the requirement",
           "catalog (wbemconform requirements); write the gate, JSON, HTML and JUnit."]
    for group in GROUPS:
        out += ["", f"{group}:"]
        for row in TABLE:
            if _group_of(row) != group:
                continue
            choices = f"{{{','.join(row.choices)}}}" if row.choices else ""
            if len(choices) > col - len(row.name) - 5:
                choices = "NAME"
            head = f"  {row.name}" + (f" {row.metavar or choices}" if row.metavar or choices
                                      else "")
            text = _short(row.help)
            lines = textwrap.wrap(text, width - col) or [""]
            if len(head) >= col - 1:
                out.append(head)
                out += [" " * col + line for line in lines]
            else:
                out.append(head.ljust(col) + lines[0])
                out += [" " * col + line for line in lines[1:]]
    out += ["", "exit status: 0 gate passed, 1 gate failed, 2 aborted (a usage error, a target "
            "that", "cannot be used, a partial run, Ctrl-C); see README, \"Verdicts and the "
            "gate\".", "Full option texts and pytest's options: wbemconform check "
            "--help-pytest"]
    return "\n".join(out)


# -- the run ------------------------------------------------------------------------------

def _scan(argv):
    """The output options of a command line that did not parse (best effort)."""
    found = {}
    for i, arg in enumerate(argv):
        for name in _OUTPUT_NAMES:
            key = _dest(JUNIT if name == "--junit-xml" else name)
            if arg == name and i + 1 < len(argv):
                found[key] = argv[i + 1]
            elif arg.startswith(name + "="):
                found[key] = arg[len(name) + 1:]
    return found


def outputs(values) -> dict:
    """{option: absolute path} of the result files: the options, else
    --conformance-dir's files, else the defaults (no JUnit)."""
    folder = values.get(_dest(RESULTS_DIR))
    out = {}
    for option in (JSON, REPORT, JUNIT):
        path = values.get(_dest(option)) or \
            (os.path.join(folder, DIR_FILES[option]) if folder else DEFAULT_OUTPUTS.get(option))
        if path:
            out[option] = os.path.abspath(os.path.expanduser(path))
    return out


def write_aborted(reason, files):
    """The results of a run aborted before pytest ran it: JSON, HTML and JUnit
    where asked for, gate ABORTED with ``reason``. Returns the paths written."""
    from .atomic import write_text
    from .plugin_run import junit_placeholder
    from .session import RunOptions, Session
    session = Session(run=RunOptions(json_path=files.get(JSON), report_path=files.get(REPORT)))
    session.abort(reason)
    written, _ = session.write_outputs()
    if files.get(JUNIT):
        try:
            write_text(files[JUNIT], junit_placeholder("; ".join(session.gate().reasons)))
            written.append(files[JUNIT])
        except OSError:
            pass
    return written


def _abort(message, files, started=None):
    """One line on stderr; the result files say ABORTED (unless the plugin has
    just written them: files newer than ``started``)."""
    print(f"wbemconform check: error: {message}", file=sys.stderr)
    json_path = files.get(JSON)
    fresh = started is not None and json_path and os.path.exists(json_path) and \
        os.path.getmtime(json_path) >= started
    if not fresh:
        write_aborted(f"bad option: {message}", files)
    return EXIT_ABORTED


def password(values, environ=None, stdin=None, ask=getpass.getpass):
    """The password to hand pytest: the option's; else, for a user with no
    password anywhere (the option, $WBEM_PASSWORD, the URL), asked for on a
    terminal (never echoed); else :class:`Usage`. None: none needed."""
    from .targets.urls import parse_url
    environ = os.environ if environ is None else environ
    stdin = sys.stdin if stdin is None else stdin
    given = values.get(_dest(PASSWORD))
    url = values.get(_dest(URL))
    if given is not None or not url:
        return given
    parts = parse_url(url)
    user = values.get(_dest(USER)) or parts.user
    if not user or values.get(_dest(AUTH)) in _NO_PASSWORD_NEEDED or \
            environ.get("WBEM_PASSWORD") is not None or parts.password is not None:
        return None
    if stdin is not None and hasattr(stdin, "isatty") and stdin.isatty():
        return ask(f"password for {user} at {redact_url(url)}: ")
    raise Usage(f"{USER} {user} given without a password: pass {PASSWORD}, set "
                "WBEM_PASSWORD, put wbem-password in the --config target, or run on a "
                "terminal to be asked")


def _pytest_args(values, files):
    args = []
    for row in PYTEST_TABLE:
        if row.dest not in values or row.is_kind("secret") or row.name in (JSON, REPORT):
            continue
        value = values[row.dest]
        for item in value if isinstance(value, list) else [value]:
            if row.action == "store_true":
                args += [row.name] if item else []
            else:
                args += [row.name, str(item)]
    for option in (JSON, REPORT, JUNIT):
        if files.get(option):
            args += [option, files[option]]
    return args


class _PytestUsage(Exception):
    """pytest refused the command line, or the plugin an option's value."""


def _one_line(exc) -> str:
    text = "\n".join(str(a) for a in exc.args) or type(exc).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = next((ln.split(": error: ", 1)[1] for ln in lines if ": error: " in ln), lines[0])
    if line.startswith("unrecognized arguments:"):  # never echo values (a password typo)
        names = [w for w in line.split(":", 1)[1].split() if w.startswith("-")]
        line = "unrecognized arguments: " + (" ".join(names) or "(not options)")
    return line


class _CheckPlugin:
    """Registered for the run only: hands over the password (through pytest's
    parsed options, never an argument list) and turns pytest's usage errors
    into the ABORTED path."""

    def __init__(self, secret):
        self.secret = secret

    @pytest.hookimpl(wrapper=True)
    def pytest_cmdline_parse(self, pluginmanager, args):
        try:
            config = yield
        except pytest.UsageError as exc:
            raise _PytestUsage(_one_line(exc)) from None
        if self.secret is not None:
            config.option.wbem_password = self.secret
        return config

    @pytest.hookimpl(wrapper=True)
    def pytest_cmdline_main(self, config):
        try:
            return (yield)
        except pytest.UsageError as exc:
            raise _PytestUsage(_one_line(exc)) from None


def _pytest(args, plugins=()):
    from importlib import resources
    suites = str(resources.files("wbemconform.suites"))
    # the suites' own configuration, not whatever pytest.ini the current folder has;
    # no pytest cache in the user's folder
    # plugin_view: the terminal in requirement terms, with progress
    return pytest.main([suites, "-c", os.devnull, "--rootdir", suites, "-p", "no:cacheprovider",
                        "-p", "wbemconform.plugin_view",
                        "-W", "ignore::pytest.PytestAssertRewriteWarning", *args],
                       plugins=list(plugins))


def main(argv) -> int:
    """Run ``wbemconform check``; the exit status (see the module docstring)."""
    argv = list(argv)
    files = outputs(_scan(argv))
    try:
        ns, rest = parser().parse_known_args(argv)
        given = vars(ns)
        if given.get("help"):
            print(help_text())
            return 0
        if given.get(_dest(HELP_PYTEST)):
            return int(_pytest(["--help"]))
        values = given
        if given.get(_dest(CONFIG)) or given.get(_dest(TARGET)):
            from .config_file import ConfigError, configured
            try:
                values = configured(given, parse=lambda args: vars(parser().parse_args(args)))
            except ConfigError as exc:
                raise Usage(str(exc)) from None
        files = outputs(values)
        secret = password(values)
    except Usage as exc:
        return _abort(str(exc), files)
    except KeyboardInterrupt:
        print("wbemconform check: interrupted", file=sys.stderr)
        write_aborted("interrupted (Ctrl-C) before the run started", files)
        return EXIT_ABORTED
    from .hypothesis_profiles import use_user_storage
    use_user_storage()
    started = time.time() - 1
    try:
        status = int(_pytest(_pytest_args(values, files) + rest,
                             [_CheckPlugin(secret)]))
    except _PytestUsage as exc:
        return _abort(str(exc), files, started)
    # the plugin made the exit status the gate's; anything else pytest says
    # (usage, internal error, no tests) is no verdict
    return status if status in (EXIT_PASSED, EXIT_FAILED) else EXIT_ABORTED

