"""``wbemconform check --config FILE --target NAME``: named targets.

Two kinds of file:

* **TOML** (any name but ``.yaml``/``.yml``): one table per target,
  ``[target.NAME]``, whose keys are the command line's option names without
  ``--`` (``wbem-url``, ``wbem-user``, ``wbem-password``, ``wbem-flavor``,
  ``wbem-profile = ["A", "B"]``, ``wbem-no-verify = true``, ...). Relative
  paths are relative to the file's folder.
* **pywbemcli's connections file** (YAML: ``connection_definitions: {NAME:
  {server, user, password, timeout, verify, ca-certs, mock-server, ...}}``):
  ``server`` is ``--wbem-url``, ``verify: false`` is ``--wbem-no-verify``,
  ``mock-server`` MOF files are ``--wbem-mock-mof``; client certificates and
  pywbemcli's Python mock scripts have no wbemconform equivalent (an error).
  ``--target NAME`` without ``--config`` reads pywbemcli's default file,
  ``$PYWBEMCLI_CONNECTIONS_FILE`` or ``~/.pywbemcli_connections.yaml``.

Without ``--target``, the file's only target (or pywbemcli's default
connection) is used. The command line wins over the file (a repeatable
option given on the command line replaces the file's list). Every problem
is :class:`ConfigError`, one line ``FILE:LINE: message``; a password is
never part of one.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

from .options import CONFIG, PASSWORD, TABLE, TARGET

__all__ = ["ConfigError", "configured", "target_entries", "pywbemcli_file"]

_NOT_IN_A_FILE = (CONFIG, TARGET, "--help-pytest")
_ROWS = {row.name[2:]: row for row in TABLE if row.name not in _NOT_IN_A_FILE}


class ConfigError(ValueError):
    """A problem with the --config file or --target: one line."""


def pywbemcli_file(environ=None) -> str:
    """pywbemcli's connections file: $PYWBEMCLI_CONNECTIONS_FILE, else
    ~/.pywbemcli_connections.yaml (pywbemcli's own default)."""
    environ = os.environ if environ is None else environ
    return environ.get("PYWBEMCLI_CONNECTIONS_FILE") or \
        os.path.join(os.path.expanduser("~"), ".pywbemcli_connections.yaml")


def _is_yaml(path):
    return str(path).lower().endswith((".yaml", ".yml"))


def _read(path):
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") \
            from None


def _choose(path, names, name, default=None):
    if name is not None:
        if name not in names:
            raise ConfigError(f"{path}: no target {name!r}; it names "
                              + (", ".join(sorted(names)) or "none"))
        return name
    if default in names:
        return default
    if len(names) == 1:
        return next(iter(names))
    raise ConfigError(f"{path}: {len(names)} targets ({', '.join(sorted(names)) or 'none'}): "
                      f"choose one with {TARGET} NAME")


# -- TOML ---------------------------------------------------------------------------------

def _toml_lines(text, name):
    """{key: line} of table [target.NAME], and the table's own line."""
    header = re.compile(r'^\s*\[\s*target\s*\.\s*(?:"([^"]*)"|\'([^\']*)\'|([\w-]+))\s*\]')
    lines, inside, own = {}, False, 1
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("["):
            m = header.match(line)
            inside = bool(m) and next(g for g in m.groups() if g is not None) == name
            own = number if inside else own
            continue
        m = re.match(r'^\s*(?:"([^"]*)"|([\w-]+))\s*=', line)
        if inside and m:
            lines.setdefault(m.group(1) or m.group(2), number)
    return lines, own


def _toml_entries(path, name):
    text = _read(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        where = f"{path}:{m.group(1)}" if m else str(path)
        raise ConfigError(f"{where}: not TOML: {re.sub(r' [(]at line.*', '', str(exc))}") \
            from None
    unknown = sorted(k for k in data if k != "target")
    if unknown:
        raise ConfigError(f"{path}: unknown table or key {unknown[0]!r} (targets are "
                          "[target.NAME] tables)")
    targets = data.get("target", {})
    if not isinstance(targets, dict):
        raise ConfigError(f"{path}: 'target' must be tables [target.NAME]")
    chosen = _choose(path, targets, name)
    table = targets[chosen]
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: target {chosen!r} must be a table [target.{chosen}]")
    lines, own = _toml_lines(text, chosen)
    return [(lines.get(key, own), key, value) for key, value in table.items()]


# -- pywbemcli's connections file -----------------------------------------------------------

_PYWBEMCLI = {"server": "wbem-url", "user": "wbem-user", "password": "wbem-password",
              "timeout": "wbem-timeout", "ca-certs": "wbem-ca-certs"}
_PYWBEMCLI_IGNORED = ("name", "default-namespace", "use-pull", "use_pull", "pull-max-cnt",
                      "pull_max_cnt")


def _yaml_lines(text, name):
    """{key: line} of connection NAME (via the composed YAML's marks)."""
    import yaml
    lines = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines
    node = root
    for step in ("connection_definitions", name):
        if not isinstance(node, yaml.MappingNode):
            return lines
        node = next((v for k, v in node.value if getattr(k, "value", None) == step), None)
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            lines[key.value] = key.start_mark.line + 1
        lines[""] = node.start_mark.line
    return lines


def _yaml_entries(path, name):
    import yaml
    text = _read(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not YAML: {getattr(exc, 'problem', None) or exc}") \
            from None
    conns = data.get("connection_definitions") if isinstance(data, dict) else None
    if not isinstance(conns, dict):
        raise ConfigError(f"{path}: not a pywbemcli connections file (no "
                          "connection_definitions)")
    chosen = _choose(path, conns, name, data.get("default_connection_name"))
    conn = conns[chosen] or {}
    lines = _yaml_lines(text, chosen)
    out = []
    for key, value in conn.items():
        line = lines.get(key, lines.get("", 1))
        if key in _PYWBEMCLI_IGNORED or value in (None, [], ""):
            continue
        if key in ("certfile", "keyfile"):
            raise ConfigError(f"{path}:{line}: {key}: client certificates are not supported "
                              "by wbemconform")
        if key == "verify":
            if value is False:
                out.append((line, "wbem-no-verify", True))
        elif key == "mock-server":
            for item in [value] if isinstance(value, str) else value:
                if not str(item).lower().endswith(".mof"):
                    raise ConfigError(f"{path}:{line}: mock-server {item}: only MOF files "
                                      "have a wbemconform equivalent (--wbem-mock-mof)")
            out.append((line, "wbem-mock-mof", [value] if isinstance(value, str) else value))
        elif key in _PYWBEMCLI:
            if key == "server" and "://" not in str(value):
                value = f"https://{value}"  # pywbemcli's default scheme
            if key == "ca-certs" and value == "certifi":
                continue
            out.append((line, _PYWBEMCLI[key], value))
        else:
            raise ConfigError(f"{path}:{line}: {key}: not a pywbemcli connection property "
                              "wbemconform knows")
    return out


# -- both ---------------------------------------------------------------------------------

def target_entries(path, name):
    """[(line, option name without --, value)] of target ``name`` (None: the
    file's only or default one)."""
    return _yaml_entries(path, name) if _is_yaml(path) else _toml_entries(path, name)


def _args(path, line, key, value, base):
    row = _ROWS.get(key)
    if row is None:
        near = [k for k in _ROWS if k.endswith(key.split("-")[-1])][:3]
        raise ConfigError(f"{path}:{line}: unknown option {key!r}"
                          + (f" (did you mean {', '.join(near)}?)" if near else ""))
    values = value if isinstance(value, list) else [value]
    if isinstance(value, list) and row.action != "append":
        raise ConfigError(f"{path}:{line}: {key}: takes one value, not a list")
    if row.action == "store_true":
        if not isinstance(value, bool):
            raise ConfigError(f"{path}:{line}: {key}: expected true or false")
        return [row.name] if value else []
    out = []
    for item in values:
        if isinstance(item, (dict, list)) or isinstance(item, bool):
            raise ConfigError(f"{path}:{line}: {key}: expected a string or a number")
        item = str(item)
        if row.is_kind("path"):
            item = str((base / os.path.expanduser(item)).resolve()) if item else item
        out.append(f"{row.name}={item}")
    return out


def configured(given: dict, parse) -> dict:
    """The values of a command line (``given``: argparse dests) with its
    --config target's options under them. ``parse(args)`` checks a list of
    arguments as the command line would (raising one line)."""
    path, name = given.get(CONFIG[2:]), given.get(TARGET[2:])
    if path is None:
        path = pywbemcli_file()
        if not os.path.exists(path):
            raise ConfigError(f"{TARGET} {name}: no {CONFIG} FILE given, and pywbemcli's "
                              f"connections file {path} does not exist")
    base = Path(path).resolve().parent
    values = {}
    for line, key, value in target_entries(path, name):
        args = _args(path, line, str(key), value, base)
        try:
            got = parse(args)
        except Exception as exc:  # the parser's one line: the value, never a password
            what = str(exc) if key != PASSWORD[2:] else "not a password"
            raise ConfigError(f"{path}:{line}: {what}") from None
        values.update(got)
    values.update({k: v for k, v in given.items() if k not in ("config", "target")})
    return values

