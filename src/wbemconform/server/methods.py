"""The intrinsic methods the served mock answers (DSP0200 section 5.3.2):
their parameters, how each parameter's value is checked and converted for
the mock, and the encoding of each method's result."""

from __future__ import annotations

from pywbem import (CIM_ERR_INVALID_PARAMETER, CIM_ERR_INVALID_QUERY, CIMClass, CIMClassName,
                    CIMError, CIMInstance, CIMInstanceName, CIMQualifierDeclaration, Uint32)

from ..wql import WqlSyntaxError, check_query_length

# parameter name -> kind of value it carries (DSP0200 section 5.3.2)
_PARAM_KINDS = {
    "ClassName": "classname", "AssocClass": "classname", "ResultClass": "classname",
    "InstanceName": "instancename", "ObjectName": "objectname",
    "LocalOnly": "boolean", "DeepInheritance": "boolean",
    "IncludeQualifiers": "boolean", "IncludeClassOrigin": "boolean",
    "ContinueOnError": "boolean", "ReturnQueryResultClass": "boolean",
    "PropertyList": "propertylist",
    "NewInstance": "instance", "ModifiedInstance": "namedinstance",
    "NewClass": "class", "ModifiedClass": "class",
    "QualifierDeclaration": "qualifierdeclaration",
    "QualifierName": "string", "Role": "string", "ResultRole": "string",
    "QueryLanguage": "string", "Query": "string",
    "FilterQueryLanguage": "string", "FilterQuery": "string",
    "EnumerationContext": "string",
    "OperationTimeout": "uint32", "MaxObjectCount": "uint32",
}
_PARAM_NAMES = {name.lower(): name for name in _PARAM_KINDS}

_INST_READ = ("LocalOnly", "IncludeQualifiers", "IncludeClassOrigin", "PropertyList")
_OPEN = ("FilterQueryLanguage", "FilterQuery", "OperationTimeout", "ContinueOnError",
         "MaxObjectCount")

#: method -> (required params, optional params, result encoding: the
#: ``kind`` of :class:`wbemconform.server.pywbem_xml.ResultEncoder`)
METHODS = {
    "GetInstance": (("InstanceName",), _INST_READ, "instance"),
    "EnumerateInstances": (("ClassName",), _INST_READ + ("DeepInheritance",),
                           "namedinstances"),
    "EnumerateInstanceNames": (("ClassName",), (), "instancenames"),
    "CreateInstance": (("NewInstance",), (), "instancenames"),
    "ModifyInstance": (("ModifiedInstance",), ("IncludeQualifiers", "PropertyList"), None),
    "DeleteInstance": (("InstanceName",), (), None),
    "ExecQuery": (("QueryLanguage", "Query"), (), "objectswithpath"),
    "Associators": (("ObjectName",),
                    ("AssocClass", "ResultClass", "Role", "ResultRole",
                     "IncludeQualifiers", "IncludeClassOrigin", "PropertyList"),
                    "objectswithpath"),
    "AssociatorNames": (("ObjectName",), ("AssocClass", "ResultClass", "Role", "ResultRole"),
                        "objectpaths"),
    "References": (("ObjectName",),
                   ("ResultClass", "Role", "IncludeQualifiers", "IncludeClassOrigin",
                    "PropertyList"),
                   "objectswithpath"),
    "ReferenceNames": (("ObjectName",), ("ResultClass", "Role"), "objectpaths"),
    "GetClass": (("ClassName",), _INST_READ, "classes"),
    "EnumerateClasses": ((), ("ClassName", "DeepInheritance", "LocalOnly",
                              "IncludeQualifiers", "IncludeClassOrigin"), "classes"),
    "EnumerateClassNames": ((), ("ClassName", "DeepInheritance"), "classnames"),
    "CreateClass": (("NewClass",), (), None),
    "ModifyClass": (("ModifiedClass",), (), None),
    "DeleteClass": (("ClassName",), (), None),
    "GetQualifier": (("QualifierName",), (), "qualifiers"),
    "SetQualifier": (("QualifierDeclaration",), (), None),
    "DeleteQualifier": (("QualifierName",), (), None),
    "EnumerateQualifiers": ((), (), "qualifiers"),
    "OpenEnumerateInstances": (("ClassName",),
                               ("DeepInheritance", "IncludeClassOrigin", "PropertyList")
                               + _OPEN, "instanceswithpath"),
    "OpenEnumerateInstancePaths": (("ClassName",), _OPEN, "instancepaths"),
    "OpenAssociatorInstances": (("InstanceName",),
                                ("AssocClass", "ResultClass", "Role", "ResultRole",
                                 "IncludeClassOrigin", "PropertyList") + _OPEN,
                                "instanceswithpath"),
    "OpenAssociatorInstancePaths": (("InstanceName",),
                                    ("AssocClass", "ResultClass", "Role", "ResultRole")
                                    + _OPEN, "instancepaths"),
    "OpenReferenceInstances": (("InstanceName",),
                               ("ResultClass", "Role", "IncludeClassOrigin", "PropertyList")
                               + _OPEN, "instanceswithpath"),
    "OpenReferenceInstancePaths": (("InstanceName",), ("ResultClass", "Role") + _OPEN,
                                   "instancepaths"),
    "OpenQueryInstances": (("FilterQueryLanguage", "FilterQuery"),
                           ("ReturnQueryResultClass", "OperationTimeout",
                            "ContinueOnError", "MaxObjectCount"), "instances"),
    "PullInstancesWithPath": (("EnumerationContext", "MaxObjectCount"), (),
                              "instanceswithpath"),
    "PullInstancePaths": (("EnumerationContext", "MaxObjectCount"), (), "instancepaths"),
    "PullInstances": (("EnumerationContext", "MaxObjectCount"), (), "instances"),
    "CloseEnumeration": (("EnumerationContext",), (), None),
}
METHOD_NAMES = {name.lower(): name for name in METHODS}

#: query operations: (query language parameter, query parameter)
QUERIES = {"ExecQuery": ("QueryLanguage", "Query"),
           "OpenQueryInstances": ("FilterQueryLanguage", "FilterQuery")}


def _invalid(msg):
    return CIMError(CIM_ERR_INVALID_PARAMETER, msg)


def _convert_param(method, name, value):
    """A parsed IPARAMVALUE value as the mock's ``_imeth_*`` expects it."""
    kind = _PARAM_KINDS[name]
    if value is None:  # an IPARAMVALUE without a value: NULL, as if absent
        return None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
    elif kind == "uint32":
        if isinstance(value, str):
            try:
                return Uint32(int(value.strip(), 10))
            except ValueError:
                pass
    elif kind == "string":
        if isinstance(value, str):
            return value
    elif kind == "classname":
        if isinstance(value, CIMClassName):
            return value
        if isinstance(value, str) and value.strip():  # lenient: a VALUE
            return CIMClassName(value.strip())
    elif kind == "instancename":
        # an INSTANCENAME: the namespace is the request's (DSP0200)
        if isinstance(value, CIMInstanceName) and not value.namespace and not value.host:
            return value
    elif kind == "objectname":
        if isinstance(value, (CIMInstanceName, CIMClassName)) and \
                not value.namespace and not value.host:
            return value
    elif kind == "propertylist":
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str)]
    elif kind == "instance":
        if isinstance(value, CIMInstance):
            return value
    elif kind == "namedinstance":
        if isinstance(value, CIMInstance) and value.path is not None:
            return value
    elif kind == "class":
        if isinstance(value, CIMClass):
            return value
    elif kind == "qualifierdeclaration":
        if isinstance(value, CIMQualifierDeclaration):
            return value
    raise _invalid(f"{method}: parameter {name} has an invalid value "
                   f"({type(value).__name__}, expected {kind})")


def method_params(method, raw_params):
    """Check and convert the (name, value) pairs of an IMETHODCALL."""
    required, optional, _ = METHODS[method]
    allowed = set(required) | set(optional)
    params = {}
    for raw_name, value in raw_params:
        name = _PARAM_NAMES.get(raw_name.lower())
        if name is None or name not in allowed:
            raise _invalid(f"{method} has no parameter {raw_name!r}")
        if name in params:
            raise _invalid(f"{method}: parameter {name} is given more than once")
        converted = _convert_param(method, name, value)
        if converted is not None:
            params[name] = converted
    missing = [name for name in required if name not in params]
    if missing:
        raise _invalid(f"{method}: missing required parameter(s) {', '.join(missing)}")
    return params


def check_query(method, params):
    """Refuse a WQL query beyond the length limit before the mock's lock is
    taken (the mock checks the other limits as it parses)."""
    language, query = QUERIES[method]
    if str(params.get(language, "")).strip().upper() == "WQL":
        try:
            check_query_length(params.get(query))
        except WqlSyntaxError as exc:
            raise CIMError(CIM_ERR_INVALID_QUERY, f"{method}: {exc}") from None
