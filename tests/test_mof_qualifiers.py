"""Qualifiers: every DSP0004 declaration built in, and WMI's undeclared qualifiers."""

import textwrap

import pytest

from wbemconform.mock import MofLoadError, connect

#: DSP0004's qualifiers (meta, standard -- deprecated ones included -- and
#: optional), as CIM Schema 2.41 uses them.
DSP0004 = """
    Association Indication Abstract Aggregate Aggregation ArrayType BitMap BitValues
    ClassConstraint Composition Correlatable Counter Deprecated Description DisplayName DN
    EmbeddedInstance EmbeddedObject Exception Experimental Gauge In IsPUnit Key
    MappingStrings Max MaxLen MaxValue MethodConstraint Min MinLen MinValue
    ModelCorrespondence NullValue OctetString Out Override Propagated PropertyConstraint
    PUnit Read Reference Required Revision Schema Static Structure Terminal UMLPackagePath
    Units ValueMap Values Version Weak Write XMLNamespaceName
    Alias Delete DisplayDescription Expensive IfDeleted Invisible Large PropertyUsage
    Provider Syntax SyntaxType TriggerType UnknownValues UnsupportedValues
    """.split()

#: (name, type, is_array, scopes, overridable, tosubclass) for a sample.
FACTS = [
    ("EmbeddedObject", "boolean", False, {"PROPERTY", "METHOD", "PARAMETER"}, False, True),
    ("EmbeddedInstance", "string", False, {"PROPERTY", "METHOD", "PARAMETER"}, True, True),
    ("ClassConstraint", "string", True, {"CLASS", "ASSOCIATION", "INDICATION"}, True, True),
    ("Deprecated", "string", True, {"ANY"}, True, False),
    ("Key", "boolean", False, {"PROPERTY", "REFERENCE"}, False, True),
    ("MaxValue", "sint64", False, {"PROPERTY", "METHOD", "PARAMETER"}, True, True),
    ("Version", "string", False, {"CLASS", "ASSOCIATION", "INDICATION"}, True, False),
    ("PropertyUsage", "string", False, {"PROPERTY"}, True, True),
]


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("q") / "ns.mof"
    path.write_text('#pragma namespace("root/contoso")\n')
    return connect([path])


@pytest.mark.parametrize("namespace", ["root/interop", "root/cimv2", "root/contoso"])
def test_every_dsp0004_qualifier_is_declared_in_every_namespace(conn, namespace):
    declared = {q.name.lower() for q in conn.EnumerateQualifiers(namespace=namespace)}
    missing = [name for name in DSP0004 if name.lower() not in declared]
    assert not missing, f"{namespace}: {missing}"


@pytest.mark.parametrize("name, qtype, is_array, scopes, overridable, tosubclass", FACTS,
                         ids=[f[0] for f in FACTS])
def test_qualifier_declarations_follow_dsp0004(conn, name, qtype, is_array, scopes,
                                               overridable, tosubclass):
    decl = conn.GetQualifier(name, namespace="root/interop")
    assert (decl.type, decl.is_array) == (qtype, is_array)
    assert {s for s, on in decl.scopes.items() if on} == scopes
    # no Flavor in the declaration: DSP0004's default (EnableOverride, ToSubclass)
    assert (decl.overridable is not False, decl.tosubclass is not False) == \
        (overridable, tosubclass)


DMTF_STYLE = """
    [Version("1.0.0"), ClassConstraint {"inv: true"},
     Deprecated {"Contoso_NewThing"}, UMLPackagePath("Contoso::Things")]
    class Contoso_Thing : CIM_LogicalElement
    {
        [Key, MaxLen(64), MinLen(1)] string Id;
        [EmbeddedObject, Description("an object of any class")] string Blob;
        [BitMap {"0", "1"}, BitValues {"A", "B"}] uint8 Flags;
        [MinValue(0), MaxValue(10), PUnit("byte"), NullValue("-1")] sint32 Level;
        [OctetString] uint8 Raw[];
        [Experimental, Correlatable {"CIM_Thing.Id"}] string Other;
        [Static, Description("a method")] uint32 Reset([In, Out] string Why);
    };
    """


@pytest.mark.parametrize("dialect", ["wmi", "dmtf"])
def test_dmtf_mof_with_dsp0004_qualifiers_loads_in_both_dialects(tmp_path, dialect):
    path = tmp_path / "dmtf.mof"
    path.write_text(textwrap.dedent(DMTF_STYLE))
    conn = connect([path], dialect=dialect)
    cls = conn.GetClass("Contoso_Thing", namespace="root/interop", IncludeQualifiers=True,
                        LocalOnly=False)
    assert cls.qualifiers["ClassConstraint"].value == ["inv: true"]
    assert cls.properties["Blob"].qualifiers["EmbeddedObject"].value is True
    assert cls.properties["Level"].qualifiers["MaxValue"].value == 10
    assert conn.load_warnings == []


WMI_STYLE = r"""
    [Locale(1033), UUID("{6C5B5C4C-0D57-4C37-9C57-0F1F3D2E9A10}"), Contoso_Owner("ops"),
     Contoso_Audited]
    class Contoso_Service : CIM_LogicalElement
    {
        [Key, Contoso_Rank(3), Contoso_Ratio(0.5)] string Name;
        [Contoso_Tags {"a", "b"}] string Tags[];
        [Implemented, Contoso_Privileges {"SeShutdownPrivilege"}] uint32 Restart();
    };

    class Contoso_SubService : Contoso_Service
    {
    };
    """


@pytest.fixture(scope="module")
def wmi_conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("wmi") / "wmi.mof"
    path.write_text(textwrap.dedent(WMI_STYLE))
    return connect([path])


def test_undeclared_qualifiers_are_typed_by_their_values_as_wmi_does(wmi_conn):
    cls = wmi_conn.GetClass("Contoso_Service", namespace="root/interop",
                            IncludeQualifiers=True, LocalOnly=False)
    q = cls.qualifiers
    assert (q["Contoso_Audited"].type, q["Contoso_Audited"].value) == ("boolean", True)  # bare
    assert (q["Contoso_Owner"].type, q["Contoso_Owner"].value) == ("string", "ops")
    assert (q["Locale"].type, q["Locale"].value) == ("sint32", 1033)
    name = cls.properties["Name"].qualifiers
    assert (name["Contoso_Rank"].type, name["Contoso_Rank"].value) == ("sint32", 3)
    assert (name["Contoso_Ratio"].type, name["Contoso_Ratio"].value) == ("real64", 0.5)
    tags = cls.properties["Tags"].qualifiers["Contoso_Tags"]
    assert (tags.type, tags.value) == ("string", ["a", "b"])
    restart = cls.methods["Restart"].qualifiers
    assert (restart["Implemented"].type, restart["Implemented"].value) == ("boolean", True)


def test_undeclared_qualifiers_are_not_propagated_by_default(wmi_conn):
    sub = wmi_conn.GetClass("Contoso_SubService", namespace="root/interop",
                            IncludeQualifiers=True, LocalOnly=False)
    assert "Contoso_Owner" not in sub.qualifiers  # WMI: no ToSubclass, no propagation
    assert "Key" in sub.properties["Name"].qualifiers  # a declared ToSubclass one is


def test_undeclared_qualifiers_are_not_declared_by_using_them(wmi_conn):
    declared = {q.name.lower() for q in wmi_conn.EnumerateQualifiers(namespace="root/interop")}
    assert "contoso_owner" not in declared and "implemented" not in declared


def test_wmi_mof_with_undeclared_qualifiers_is_refused_in_the_dmtf_dialect(tmp_path):
    path = tmp_path / "wmi.mof"
    path.write_text(textwrap.dedent(WMI_STYLE).lstrip("\n"))
    with pytest.raises(MofLoadError) as excinfo:
        connect([path], dialect="dmtf")
    assert excinfo.value.line == 1
    assert "qualifier 'Locale'" in excinfo.value.message


def test_a_misspelt_declared_qualifier_is_accepted_with_a_warning(tmp_path):
    path = tmp_path / "typo.mof"
    path.write_text("class Typo_Thing : CIM_LogicalElement\n{\n    [Kye] string Name;\n};\n")
    conn = connect([path])
    warnings = [str(w) for w in conn.load_warnings]
    assert warnings == [f"{path}:3: warning: qualifier 'Kye' is not declared in root/interop; "
                        "accepted as WMI accepts an undeclared qualifier, but it looks like a "
                        "misspelling of 'Key'"]


def test_a_declared_qualifier_keeps_its_type(tmp_path):
    path = tmp_path / "bad.mof"
    path.write_text('class Bad_Len : CIM_LogicalElement\n{\n    [MaxLen("long")] string Name;\n};\n')
    with pytest.raises(MofLoadError) as excinfo:
        connect([path])
    assert excinfo.value.line == 3
    assert "MaxLen" in excinfo.value.message
