"""Commands that reproduce what a report shows: the pywbemcli line that issues
one operation of the evidence again, and the pytest line that runs one test
again with the run's options (from any folder)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from .options import reproduce_args

__all__ = ["pywbemcli_command", "pytest_command", "is_url"]


def is_url(target):
    return isinstance(target, str) and target.startswith(("http://", "https://"))


_ASSOC_OPTS = (("AssocClass", "--ac"), ("ResultClass", "--rc"), ("Role", "-r"),
               ("ResultRole", "--rr"))
_REF_OPTS = (("ResultClass", "--rc"), ("Role", "-r"))
# operation -> (pywbemcli command words, names-only, options)
_PYWBEMCLI = {
    "AssociatorNames": ("instance associators", True, _ASSOC_OPTS),
    "OpenAssociatorInstancePaths": ("instance associators", True, _ASSOC_OPTS),
    "Associators": ("instance associators", False, _ASSOC_OPTS),
    "OpenAssociatorInstances": ("instance associators", False, _ASSOC_OPTS),
    "ReferenceNames": ("instance references", True, _REF_OPTS),
    "OpenReferenceInstancePaths": ("instance references", True, _REF_OPTS),
    "References": ("instance references", False, _REF_OPTS),
    "OpenReferenceInstances": ("instance references", False, _REF_OPTS),
    "GetInstance": ("instance get", False, ()),
    "DeleteInstance": ("instance delete", False, ()),
    "EnumerateInstances": ("instance enumerate", False, ()),
    "OpenEnumerateInstances": ("instance enumerate", False, ()),
    "EnumerateInstanceNames": ("instance enumerate", True, ()),
    "OpenEnumerateInstancePaths": ("instance enumerate", True, ()),
    "GetClass": ("class get", False, ()),
    "ExecQuery": ("instance query", False, ()),
}
_CLASS_OPS = {"EnumerateInstances", "OpenEnumerateInstances", "EnumerateInstanceNames",
              "OpenEnumerateInstancePaths", "GetClass"}
_OBJECT_ARGS = ("arg0", "ObjectName", "InstanceName", "ClassName")


def pywbemcli_command(server, evidence):
    """The pywbemcli command line that issues the evidence's operation against
    ``server`` (a URL), or None when pywbemcli has no equivalent."""
    op = evidence.get("operation")
    if op not in _PYWBEMCLI:
        return None
    words, names_only, options = _PYWBEMCLI[op]
    args = dict(evidence.get("arguments") or {})
    ns = args.get("namespace")
    if op == "ExecQuery":
        ql, query = args.get("arg0") or args.get("QueryLanguage"), \
            args.get("arg1") or args.get("Query")
        if not query:
            return None
        cmd = ["pywbemcli", "-s", server, *words.split(), str(query)]
        if ql:
            cmd += ["--ql", str(ql)]
    else:
        obj = next((str(args[k]) for k in _OBJECT_ARGS if args.get(k)), None)
        if not obj:
            return None
        if op in _CLASS_OPS and ":" in obj:  # "ns:Class" (a CIMClassName's text)
            prefix, _, obj = obj.rpartition(":")
            ns = ns or re.sub(r"^//[^/]*/", "", prefix)
        cmd = ["pywbemcli", "-s", server, *words.split(), obj]
        for arg, opt in options:
            if args.get(arg):
                cmd += [opt, str(args[arg])]
        if names_only:
            cmd.append("--names-only")
        if op in ("EnumerateInstances", "OpenEnumerateInstances") and \
                args.get("DeepInheritance") is True:
            cmd.append("--di")
        if op == "GetClass":
            if args.get("LocalOnly") is True:
                cmd.append("--lo")
            if args.get("IncludeQualifiers") is False:
                cmd.append("--nq")
    if ns:
        cmd += ["-n", str(ns)]
    return shlex.join(cmd)


def pytest_command(doc, test, target):
    """The pytest command that runs this one test again with the run's options,
    from any working directory (the test's file is named by its absolute path)."""
    if not test:
        return None
    where, sep, rest = test.partition("::")
    rootdir = (doc.get("run") or {}).get("rootdir")
    if rootdir and not Path(where).is_absolute():
        where = str(Path(rootdir) / where)
    cmd = ["pytest", where + sep + rest, *reproduce_args(doc.get("options"))]
    if is_url(target) and "--wbem-url" not in cmd:
        cmd += ["--wbem-url", target]
    return shlex.join(cmd)
