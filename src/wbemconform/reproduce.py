"""Commands that reproduce what a report shows: the pywbemcli line that issues
one operation of the evidence again (CIM-XML), the PowerShell (CimCmdlets)
line and the curl line that posts the saved request envelope again
(WS-Management), and the pytest line that runs one test again with the run's
options (from any folder). No command holds a password: each asks for it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

from .options import reproduce_args

__all__ = ["pywbemcli_command", "pytest_command", "is_url", "protocol_of", "is_winrm",
           "powershell_command", "curl_command", "evidence_commands", "WSMAN",
           "ENVELOPE_FILE", "SOAP_CONTENT_TYPE"]

WSMAN = "WS-Management"
#: the file a report's curl line posts: the evidence's saved request envelope
ENVELOPE_FILE = "request.xml"
SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"


def is_url(target):
    return isinstance(target, str) and target.startswith(("http://", "https://"))


_ASSOC_OPTS = (("AssocClass", "--ac"), ("ResultClass", "--rc"), ("Role", "-r"),
               ("ResultRole", "--rr"))
_REF_OPTS = (("ResultClass", "--rc"), ("Role", "-r"))
# operation -> (pywbemcli command words, names-only, options, --use-pull): pywbemcli
# issues a pull operation (Open*, then Pull*) or its classic counterpart for one
# command as its general option --use-pull says; its default, "either", picks the
# pull operation wherever the server has it. So the line of an Open* operation
# says "yes" (and fails where the server has no pull operations, as the suite's
# own call did) and the line of a classic operation that returns a list says
# "no"; an operation that returns one object (or none) has no pull counterpart.
# ExecQuery and OpenQueryInstances have none: pywbemcli's "instance query"
# (pywbemtools 1.3.1 with pywbem 1.9) sends the query, then fails on what
# IterQueryInstances returns (TypeError, a traceback) whatever --use-pull says.
_PYWBEMCLI = {
    "AssociatorNames": ("instance associators", True, _ASSOC_OPTS, "no"),
    "OpenAssociatorInstancePaths": ("instance associators", True, _ASSOC_OPTS, "yes"),
    "Associators": ("instance associators", False, _ASSOC_OPTS, "no"),
    "OpenAssociatorInstances": ("instance associators", False, _ASSOC_OPTS, "yes"),
    "ReferenceNames": ("instance references", True, _REF_OPTS, "no"),
    "OpenReferenceInstancePaths": ("instance references", True, _REF_OPTS, "yes"),
    "References": ("instance references", False, _REF_OPTS, "no"),
    "OpenReferenceInstances": ("instance references", False, _REF_OPTS, "yes"),
    "EnumerateInstances": ("instance enumerate", False, (), "no"),
    "OpenEnumerateInstances": ("instance enumerate", False, (), "yes"),
    "EnumerateInstanceNames": ("instance enumerate", True, (), "no"),
    "OpenEnumerateInstancePaths": ("instance enumerate", True, (), "yes"),
    "GetInstance": ("instance get", False, (), None),
    "DeleteInstance": ("instance delete", False, (), None),
    "GetClass": ("class get", False, (), None),
    "EnumerateClasses": ("class enumerate", False, (), None),
    "EnumerateClassNames": ("class enumerate", True, (), None),
    "InvokeMethod": (None, False, (), None),  # instance or class invokemethod
}
#: operations whose object is a class name ("ns:Class" when namespaced)
_CLASS_OPS = {"EnumerateInstances", "OpenEnumerateInstances", "EnumerateInstanceNames",
              "OpenEnumerateInstancePaths", "GetClass", "EnumerateClasses",
              "EnumerateClassNames"}
_OBJECT_ARGS = ("arg0", "ObjectName", "InstanceName", "ClassName")
#: the namespace a CIM-XML target's connection uses when an operation names none
#: (targets/cimxml.py): the interop namespace given, else root/interop
DEFAULT_NAMESPACE = "root/interop"


def _general_options(server, options):
    """pywbemcli's general options for the run's server: the URL (no user
    name or password in it), the user (pywbemcli asks for the password) and
    the TLS options the run had."""
    from .options import CA_CERTS, NO_VERIFY, USER, redact_url
    cmd = ["pywbemcli", "-s", redact_url(server)]
    if options.get(USER):
        cmd += ["-u", str(options[USER])]
    if options.get(NO_VERIFY):
        cmd.append("--no-verify")
    elif options.get(CA_CERTS):
        cmd += ["--ca-certs", str(options[CA_CERTS])]
    return cmd


def _path_namespace(text):
    """The namespace an instance path's text names, or None (a class name,
    or a path without one)."""
    path = _path(text)
    return path.namespace if path is not None else None


def _invokemethod(args):
    """(words, object, extra options, namespace of a class) of pywbemcli's
    instance/class invokemethod for an InvokeMethod evidence, or None."""
    method = args.get("arg0") or args.get("MethodName")
    obj = args.get("arg1") or args.get("ObjectName")
    rest = {k: v for k, v in args.items()
            if k not in ("arg0", "arg1", "MethodName", "ObjectName", "namespace")}
    if not method or not obj or any(k.startswith("arg") or k == "Params" for k in rest):
        return None
    params = []
    for name, value in rest.items():  # keyword parameters: scalars only
        if isinstance(value, (dict, list)):
            return None
        text = {True: "true", False: "false"}.get(value, value) \
            if isinstance(value, bool) else value
        params += ["-p", f"{name}={text}"]
    if _path(obj) is not None:
        return ["instance", "invokemethod"], str(obj), [str(method), *params], None
    prefix, _, cls = str(obj).rpartition(":")  # "ns:Class" (a CIMClassName's text)
    return (["class", "invokemethod"], cls, [str(method), *params],
            re.sub(r"^//[^/]*/", "", prefix) or None)


def pywbemcli_command(server, evidence, options=None):
    """The pywbemcli command line that issues the evidence's operation against
    ``server`` (a URL) as the suite issued it -- the pull operation or the
    classic one (``--use-pull``), in the namespace it was sent to -- or None
    when pywbemcli has no equivalent. ``options``: the run's recorded options
    (the JSON document's ``options``): the user name, the TLS options and the
    interop namespace. No password: pywbemcli asks for it."""
    from .options import INTEROP
    op = evidence.get("operation")
    if op not in _PYWBEMCLI:
        return None
    options = options or {}
    words, names_only, opts, pull = _PYWBEMCLI[op]
    args = dict(evidence.get("arguments") or {})
    ns = args.get("namespace")
    extra = []
    if op == "InvokeMethod":
        found = _invokemethod(args)
        if found is None:
            return None
        words, obj, extra, class_ns = found
        ns = ns or class_ns
    else:
        words = words.split()
        obj = next((str(args[k]) for k in _OBJECT_ARGS if args.get(k)), None)
        if not obj and op not in ("EnumerateClasses", "EnumerateClassNames"):
            return None
        if obj and op in _CLASS_OPS and ":" in obj:  # "ns:Class" (a CIMClassName's text)
            prefix, _, obj = obj.rpartition(":")
            ns = ns or re.sub(r"^//[^/]*/", "", prefix)
        for arg, opt in opts:
            if args.get(arg):
                extra += [opt, str(args[arg])]
        if names_only:
            extra.append("--names-only")
        if op in ("EnumerateInstances", "OpenEnumerateInstances", "EnumerateClasses",
                  "EnumerateClassNames") and args.get("DeepInheritance") is True:
            extra.append("--di")
        if op in ("GetClass", "EnumerateClasses"):
            if args.get("LocalOnly") is True:
                extra.append("--lo")
            if args.get("IncludeQualifiers") is False:
                extra.append("--nq")
    cmd = _general_options(server, options)
    if pull:
        cmd += ["--use-pull", pull]
    cmd += [*words, *([obj] if obj else []), *extra]
    # an instance path that names its namespace is sent there (pywbemcli refuses
    # --namespace beside it); otherwise the namespace sent, else the connection's
    if not (obj and words[0] == "instance" and op not in _CLASS_OPS and
            _path_namespace(obj)):
        cmd += ["--namespace", str(ns or options.get(INTEROP) or DEFAULT_NAMESPACE)]
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


# -- WS-Management -------------------------------------------------------------

def protocol_of(doc):
    """The run's protocol: the document's ``protocol``, else (an older
    document) what its target line says."""
    if doc.get("protocol"):
        return doc["protocol"]
    target = str(doc.get("target") or "")
    if f"({WSMAN}" in target:
        return WSMAN
    return "CIM-XML" if is_url(target) else "embedded mock"


def _url(doc):
    """The target's URL as recorded (user and password never in it)."""
    from .options import redact_url
    url = (doc.get("options") or {}).get("--wbem-url") or \
        str(doc.get("target") or "").split(" ")[0]
    return redact_url(url) if is_url(url) else None


def _auth(doc):
    return doc.get("auth") or (doc.get("options") or {}).get("--wbem-auth") or "basic"


def is_winrm(doc):
    """Whether a WS-Management target looks like WinRM (a WMI flavor, or
    WinRM's ports 5985/5986): its reports show PowerShell lines too."""
    url = _url(doc)
    if protocol_of(doc) != WSMAN or not url:
        return False
    try:
        port = urlsplit(url).port
    except ValueError:
        port = None
    return doc.get("flavor") == "wmi" or port in (5985, 5986)


_PS_PLAIN = re.compile(r"^[A-Za-z0-9_./:\\-]+$")
_PS_AUTH = {"basic": "Basic", "ntlm": "Negotiate", "negotiate": "Negotiate",
            "kerberos": "Kerberos", "credssp": "CredSsp"}


def _ps(value):
    """A PowerShell word: as is when plain, else single-quoted."""
    value = str(value)
    return value if _PS_PLAIN.match(value) else "'" + value.replace("'", "''") + "'"


def _ps_session(doc):
    """(statement that opens a CimSession or "", the cmdlets' connection words)."""
    u = urlsplit(_url(doc))
    https = u.scheme == "https"
    port = u.port or (443 if https else 80)
    auth = _auth(doc)
    opts = doc.get("options") or {}
    if not https and port == 5985 and auth in ("negotiate", "kerberos", "none"):
        return "", f"-ComputerName {_ps(u.hostname)}"
    words = ["New-CimSession", "-ComputerName", _ps(u.hostname), "-Port", str(port)]
    if auth in _PS_AUTH:
        user = opts.get("--wbem-user")
        words += ["-Authentication", _PS_AUTH[auth],
                  "-Credential", f"(Get-Credential {_ps(user)})" if user else "(Get-Credential)"]
    if https:
        words += ["-SessionOption", "(New-CimSessionOption -UseSsl"
                  + (" -SkipCACheck -SkipCNCheck" if opts.get("--wbem-no-verify") else "")
                  + ")"]
    return "$s = " + " ".join(words) + "; ", "-CimSession $s"


def _path(text):
    import pywbem
    try:
        return pywbem.CIMInstanceName.from_wbem_uri(str(text))
    except (ValueError, TypeError, pywbem.Error):
        return None


def _ps_value(value):
    if isinstance(value, bool):
        return "$true" if value else "$false"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _wql_path(path):
    """A WMI object path, ``Class.Key="v",N=1``, for ASSOCIATORS/REFERENCES OF."""
    keys = []
    for k, v in path.keybindings.items():
        if isinstance(v, bool):
            keys.append(f"{k}={'TRUE' if v else 'FALSE'}")
        elif isinstance(v, (int, float)):
            keys.append(f"{k}={v}")
        else:
            text = v.to_wbem_uri() if hasattr(v, "to_wbem_uri") else str(v)
            keys.append(f'{k}="' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return path.classname + ("." + ",".join(keys) if keys else "")


def _ps_instance(path, ns, conn):
    """A PowerShell expression for the instance at ``path``: a client-only
    instance with its keys (no round trip) when every key is plain, else a
    Get-CimInstance filtered on the plain keys."""
    plain = {k: v for k, v in path.keybindings.items() if not hasattr(v, "keybindings")}
    if len(plain) == len(path.keybindings) and plain:
        props = "; ".join(f"{k}={_ps_value(v)}" for k, v in plain.items())
        return (f"(New-CimInstance -ClientOnly -Namespace {_ps(ns)} -ClassName "
                f"{_ps(path.classname)} -Key {','.join(plain)} -Property @{{{props}}})")
    where = " AND ".join(f"{k} = " + (str(v) if isinstance(v, (int, float)) and not
                                      isinstance(v, bool) else
                                      '"' + str(v).replace("\\", "\\\\")
                                      .replace('"', '\\"') + '"')
                         for k, v in plain.items())
    return (f"(Get-CimInstance {conn} -Namespace {_ps(ns)} -ClassName {_ps(path.classname)}"
            + (f" -Filter {_ps(where)}" if where else "") + ")")


def powershell_command(doc, evidence):
    """The PowerShell (CimCmdlets) line that issues the evidence's operation
    against a WinRM target, or None when it has no CimCmdlets equivalent. The
    password is asked for (Get-Credential), never written."""
    if not _url(doc):
        return None
    op = evidence.get("operation")
    args = dict(evidence.get("arguments") or {})
    default_ns = (doc.get("options") or {}).get("--wbem-interop-namespace") or "root/interop"
    ns = args.get("namespace")
    session, conn = _ps_session(doc)
    names_only = op in ("AssociatorNames", "ReferenceNames", "EnumerateInstanceNames")
    if op in ("EnumerateInstances", "EnumerateInstanceNames", "GetClass"):
        cls = args.get("arg0") or args.get("ClassName")
        if not cls:
            return None
        prefix, _, cls = str(cls).rpartition(":")
        ns = ns or re.sub(r"^//[^/]*/", "", prefix) or default_ns
        if op == "GetClass":
            return f"{session}Get-CimClass {conn} -Namespace {_ps(ns)} -ClassName {_ps(cls)}"
        line = f"{session}Get-CimInstance {conn} -Namespace {_ps(ns)} -ClassName {_ps(cls)}"
        if args.get("DeepInheritance") is False:
            line += " -Shallow"
        return line + (" -KeyOnly" if names_only else "")
    if op == "ExecQuery":
        ql, query = args.get("arg0") or args.get("QueryLanguage"), \
            args.get("arg1") or args.get("Query")
        if not query:
            return None
        return (f"{session}Get-CimInstance {conn} -Namespace {_ps(ns or default_ns)} "
                f"-Query {_ps(query)}" + (f" -QueryDialect {_ps(ql)}" if ql else ""))
    if op not in ("GetInstance", "Associators", "AssociatorNames", "References",
                  "ReferenceNames"):
        return None
    path = _path(next((args[k] for k in _OBJECT_ARGS if args.get(k)), ""))
    if path is None:
        return None
    ns = path.namespace or ns or default_ns
    if op == "GetInstance":
        return f"{session}Get-CimInstance {conn} -InputObject {_ps_instance(path, ns, conn)}"
    if op in ("Associators", "AssociatorNames") and not (args.get("Role") or
                                                         args.get("ResultRole")):
        line = (f"{session}Get-CimAssociatedInstance {conn} -InputObject "
                f"{_ps_instance(path, ns, conn)}")
        if args.get("AssocClass"):
            line += f" -Association {_ps(args['AssocClass'])}"
        if args.get("ResultClass"):
            line += f" -ResultClassName {_ps(args['ResultClass'])}"
        return line + (" -KeyOnly" if names_only else "")
    # Role/ResultRole, and references: WQL (CimCmdlets have no parameters for them)
    kind = "ASSOCIATORS" if op.startswith("Associator") else "REFERENCES"
    where = [f"{word} = {args[arg]}" for arg, word in (
        ("AssocClass", "AssocClass"), ("ResultClass", "ResultClass"), ("Role", "Role"),
        ("ResultRole", "ResultRole")) if args.get(arg) and (kind == "ASSOCIATORS" or arg in (
            "ResultClass", "Role"))]
    if names_only:
        where.append("KeysOnly")
    query = f"{kind} OF {{{_wql_path(path)}}}" + (" WHERE " + " ".join(where) if where else "")
    return f"{session}Get-CimInstance {conn} -Namespace {_ps(ns)} -Query {_ps(query)}"


_CURL_AUTH = {"ntlm": ["--ntlm"], "negotiate": ["--negotiate"], "kerberos": ["--negotiate"]}


def curl_command(doc, evidence):
    """The curl line that posts the evidence's saved request envelope (saved
    as ``request.xml``) to the WS-Management target again, or None when the
    evidence holds no envelope. ``-u USER``: curl asks for the password."""
    url = _url(doc)
    if not url or not evidence.get("envelope"):
        return None
    opts = doc.get("options") or {}
    auth = _auth(doc)
    cmd = ["curl", *_CURL_AUTH.get(auth, [])]
    if auth != "none":
        cmd += ["-u", str(opts.get("--wbem-user") or "USER")]
    if opts.get("--wbem-no-verify"):
        cmd.append("--insecure")
    elif opts.get("--wbem-ca-certs"):
        cmd += ["--cacert", str(opts["--wbem-ca-certs"])]
    cmd += ["--data-binary", "@" + ENVELOPE_FILE, "-H", f"Content-Type: {SOAP_CONTENT_TYPE}",
            url]
    return shlex.join(cmd)


def evidence_commands(doc, target, evidence):
    """What reproduces one evidence record: ``{"command": the pywbemcli
    (CIM-XML) or PowerShell (WinRM) line or None, "curl": the curl line or
    None, "envelope": the saved request or None}``."""
    if protocol_of(doc) == WSMAN:
        return {"command": powershell_command(doc, evidence) if is_winrm(doc) else None,
                "curl": curl_command(doc, evidence), "envelope": evidence.get("envelope")}
    return {"command": pywbemcli_command(target, evidence, doc.get("options"))
            if is_url(target) else None,
            "curl": None, "envelope": None}
