r"""The MOF loader's error messages: ``file:line: message``, for malformed MOF.

Each malformed MOF is written to a file under ``tmp_path`` and loaded with
``wbemconform.mock.connect(mof_files=[path])`` after the schema, so the
message must name *that* file (or the included file the error is in) and
the exact line. In the MOF texts below the line the error must name ends in
a ``// <-`` comment; the helper checks that the expected line number and the
marker agree, so a miscounted case fails loudly instead of testing nothing.

MOF strings are written as raw Python strings, so they read exactly as in the
spec: ``#pragma namespace("\\\\.\\root\\interop")`` in the MOF source is the
namespace ``\\.\root\interop``.
"""

import textwrap

import pytest
from pywbem import CIMInstanceName

from wbemconform.mock import MofLoadError, connect

MARKER = "// <-"


def mof(text):
    """Dedent a MOF text; line 1 is the first line after the opening quotes."""
    return textwrap.dedent(text).removeprefix("\n")


def write(tmp_path, text, name="bad.mof"):
    path = tmp_path / name
    path.write_text(mof(text), encoding="utf-8")
    return path


def load_error(path, **kwargs):
    """connect() with ``path``; return the MofLoadError it must raise."""
    with pytest.raises(MofLoadError) as excinfo:
        connect(mof_files=[path], **kwargs)
    message = str(excinfo.value)
    assert "Traceback" not in message
    assert 'File "' not in message  # no traceback frames either
    return excinfo.value


def assert_names_line(exc, path, line, text=None):
    message = str(exc)
    if text is not None:  # the case itself marks the line it expects
        lines = mof(text).splitlines()
        assert MARKER in lines[line - 1], f"test case: line {line} is not marked: {lines[line - 1]!r}"
    assert message.startswith(f"{path}:{line}: "), message
    assert exc.file == str(path)
    assert exc.line == line


# -- malformed MOF: (mof, expected line, phrases the message must contain) ---------

CASES = [
    pytest.param(r"""
        // a property declaration without its ';'
        class Bad_NoSemicolon : CIM_RegisteredProfile
        {
            string Foo
        };          // <- the parser notices at the next token
        """, 5, ["syntax error", "};"], id="missing-semicolon"),

    pytest.param(r"""
        class Bad_NoBrace : CIM_RegisteredProfile
        {
            string Foo;

        instance of CIM_RegisteredProfile   // <- the class was never closed
        {
            InstanceID = "x";
        };
        """, 5, ["syntax error", "instance of CIM_RegisteredProfile"], id="missing-brace"),

    pytest.param(r"""
        [Provider("P")]
        class Bad_Lexer : CIM_RegisteredProfile
        {
            string Foo @;   // <-
        };
        """, 4, ["Illegal character '@'"], id="illegal-character"),

    pytest.param(r"""
        // a class derived from a class nobody declared

        class Bad_Orphan : No_Such_Class    // <-
        {
            string Foo;
        };
        """, 3, ["cannot create class Bad_Orphan", "superclass 'No_Such_Class'",
                 "does not exist"], id="unknown-superclass"),

    pytest.param(r"""
        // the spec's step 4 forgotten: the new namespace holds no CIM schema
        #pragma namespace("\\\\.\\root\\contoso")
        [Provider("ContosoAssociation"),Dynamic]   // <- a declaration starts at its qualifiers
        Class Contoso_ElementConformsToProfile_v1: CIM_ElementConformsToProfile
        {
             [MSFT_TargetNamespace("root\\interop")] CIM_RegisteredProfile ref ConformantStandard = null;
             CIM_LogicalElement ref ManagedElement = null;
        };
        """, 3, ["superclass 'CIM_ElementConformsToProfile'", "does not exist in namespace "
                 "'root/contoso'", 'place the schema there first with #pragma include("interop.mof")'],
        id="schema-missing-in-new-namespace"),

    pytest.param(r"""
        // the same for an implementation class: interop.mof and cimv2.mof
        #pragma namespace("\\\\.\\root\\contoso")
        class Contoso_Process : Win32_Process   // <-
        {
        };
        """, 3, ['#pragma include("interop.mof") and #pragma include("cimv2.mof")'],
        id="cimv2-schema-missing-in-new-namespace"),

    pytest.param(r"""
        class Good_Profile : CIM_RegisteredProfile
        {
        };

        instance of No_Such_Class   // <-
        {
            InstanceID = "x";
        };
        """, 5, ["No_Such_Class", "class does not exist"], id="instance-of-unknown-class"),

    # errors about an instance's values name the line of the "instance of"
    pytest.param(r"""
        #pragma namespace("\\\\.\\root\\interop")
        instance of __Win32Provider as $P   // <-
        {
            Name    = "ProcessAssociation" ;
            Bogus   = "not a property of __Win32Provider";
        } ;
        """, 2, ["__Win32Provider", "'Bogus'", "not declared"], id="unknown-property"),

    pytest.param(r"""
        [Provider("ProcessAssociation"),Dynamic]
        Class Bad_Alias_v1: CIM_ElementConformsToProfile
        {
             CIM_RegisteredProfile ref ConformantStandard = $X;  // <-
             Win32_process ref ManagedElement = null;
        };
        """, 4, ["'$X'", "not previously defined"], id="undefined-alias"),

    pytest.param(r"""
        // the registration of the spec, on another machine
        #pragma namespace("\\\\Host\\root\\interop")   // <-
        instance of __Win32Provider as $P
        {
            Name    = "ProcessAssociation" ;
            ClsId   = "{DA13393B-A2D5-4BAC-9BD2-30B092E9EBB8}";
        } ;
        """, 2, ["#pragma namespace", "on machine 'Host'", "only the local machine"],
        id="pragma-namespace-remote-unc"),

    pytest.param(r"""
        class Good_Profile : CIM_RegisteredProfile
        {
        };

        #pragma namespace("//10.0.0.1/root/cimv2")   // <-
        """, 5, ["#pragma namespace", "'10.0.0.1'", "only the local machine"],
        id="pragma-namespace-remote-ipv4"),

    pytest.param(r"""

        #pragma namespace("root\\bad name")   // <-
        """, 2, ["#pragma namespace", "'bad name'", "not a valid namespace name segment"],
        id="pragma-namespace-malformed"),

    pytest.param(r"""
        #pragma namespace("\\\\.\\root\\interop")
        #pragma classflags("forceupdate")   // <-
        """, 2, ["#pragma classflags", "not supported"], id="pragma-unsupported"),

    pytest.param(r"""
        // schema first
        #pragma include("missing.mof")   // <-
        """, 2, ["#pragma include", "'missing.mof'", "file not found"],
        id="pragma-include-missing"),

    # the spec's own unsupported example, as the article renders it
    pytest.param(r"""
        #pragma namespace("\\\\.\\root\\interop")
        [Provider("ProcessAssociation"),Dynamic]
        Class Bad_Remote_v1: CIM_ElementConformsToProfile
        {
             CIM_RegisteredProfile ref ConformantStandard = null;
             [MSFT_TargetNamespace("\\\\RemoteMachine\\root\\interop")] Win32_process ref ManagedElement = null;   // <-
        };
        """, 6, ["Bad_Remote_v1.ManagedElement", "MSFT_TargetNamespace", "remote",
                 "'RemoteMachine'"], id="target-namespace-remote"),

    # the same example copied from the article's markdown source, where each
    # backslash is escaped once more: still rejected, on the property's line
    pytest.param(r"""
        #pragma namespace("\\\\.\\root\\interop")
        [Provider("ProcessAssociation"),Dynamic]
        Class Bad_Remote_v1: CIM_ElementConformsToProfile
        {
             CIM_RegisteredProfile ref ConformantStandard = null;
             [MSFT_TargetNamespace("\\\\\\\\RemoteMachine\\\\root\\\\interop")] Win32_process ref ManagedElement = null;   // <-
        };
        """, 6, ["Bad_Remote_v1.ManagedElement", "MSFT_TargetNamespace"],
        id="target-namespace-remote-overescaped"),

    pytest.param(r"""
        class Bad_Types
        {
            [Key] string Id;
            uint32 Nums[];
        };

        instance of Bad_Types   // <-
        {
            Id = "a";
            Nums = "abc";
        };
        """, 7, ["'Nums'", "Bad_Types", "array"], id="string-for-uint32-array"),

    pytest.param(r"""
        class Bad_Types
        {
            [Key] string Id;
            uint32 Num;
        };

        instance of Bad_Types   // <-
        {
            Id = "a";
            Num = "abc";
        };
        """, 7, ["'Num'", "invalid value 'abc'"], id="string-for-uint32"),
]


@pytest.mark.parametrize("text, line, phrases", CASES)
def test_malformed_mof_names_file_and_line(tmp_path, text, line, phrases):
    path = write(tmp_path, text)
    exc = load_error(path)
    assert_names_line(exc, path, line, text)
    for phrase in phrases:
        assert phrase in exc.message, (phrase, exc.message)


# -- the DMTF dialect: what WMI accepts, DSP0004 compilers refuse ------------------------

DMTF_CASES = [
    pytest.param(r"""
        // a qualifier nobody declared (WMI accepts it: tests/test_mof_qualifiers.py)

        [NoSuchQualifier(true)]   // <-
        class Bad_Qualified : CIM_RegisteredProfile
        {
        };
        """, 3, ["qualifier 'NoSuchQualifier'", "does not exist"], id="unknown-qualifier"),
]


@pytest.mark.parametrize("text, line, phrases", DMTF_CASES)
def test_malformed_dmtf_mof_names_file_and_line(tmp_path, text, line, phrases):
    path = write(tmp_path, text)
    exc = load_error(path, dialect="dmtf")
    assert_names_line(exc, path, line, text)
    for phrase in phrases:
        assert phrase in exc.message, (phrase, exc.message)


# -- included files ------------------------------------------------------------------

MAIN_INCLUDING = r"""
    // main.mof
    #pragma namespace("\\\\.\\root\\interop")

    #pragma include("inc.mof")
    """


def test_semantic_error_in_included_file_names_the_included_file(tmp_path):
    inc = write(tmp_path, r"""
        // inc.mof
        class Inc_Profile : CIM_RegisteredProfile
        {
        };

        instance of No_Such_Class   // <-
        {
            InstanceID = "x";
        };
        """, "inc.mof")
    exc = load_error(write(tmp_path, MAIN_INCLUDING, "main.mof"))
    assert_names_line(exc, inc, 6)
    assert "No_Such_Class" in exc.message


def test_remote_pragma_in_included_file_names_the_included_file(tmp_path):
    inc = write(tmp_path, r"""
        // inc.mof

        #pragma namespace("\\\\Host\\root\\interop")   // <-
        """, "inc.mof")
    exc = load_error(write(tmp_path, MAIN_INCLUDING, "main.mof"))
    assert_names_line(exc, inc, 3)
    assert "'Host'" in exc.message


def test_syntax_error_in_included_file_names_its_line(tmp_path):
    inc = write(tmp_path, r"""
        // inc.mof
        // (a few lines, so that the line cannot be confused with the
        //  line of the #pragma include in main.mof)
        //
        //
        class Inc_NoSemicolon : CIM_RegisteredProfile
        {
            string Foo
        };   // <- line 9
        """, "inc.mof")
    exc = load_error(write(tmp_path, MAIN_INCLUDING, "main.mof"))
    assert_names_line(exc, inc, 9)
    assert "syntax error" in exc.message


def test_illegal_character_in_included_file_names_its_line(tmp_path):
    inc = write(tmp_path, r"""
        // inc.mof
        //
        //
        //
        class Inc_Lexer : CIM_RegisteredProfile
        {
            string Foo @;   // <- line 7
        };
        """, "inc.mof")
    exc = load_error(write(tmp_path, MAIN_INCLUDING, "main.mof"))
    assert_names_line(exc, inc, 7)
    assert "Illegal character '@'" in exc.message


def test_error_after_an_include_names_the_including_file(tmp_path):
    write(tmp_path, r"""
        // inc.mof, fine
        class Inc_Profile : CIM_RegisteredProfile
        {
        };
        """, "inc.mof")
    main = write(tmp_path, MAIN_INCLUDING + r"""
        instance of No_Such_Class   // <- line 6
        {
            InstanceID = "x";
        };
        """, "main.mof")
    exc = load_error(main)
    assert_names_line(exc, main, 6)


def test_non_utf8_included_file_is_a_load_error(tmp_path):
    inc = tmp_path / "inc.mof"
    inc.write_bytes(b"// inc.mof\n// caf\xe9 (Latin-1)\n")
    exc = load_error(write(tmp_path, MAIN_INCLUDING, "main.mof"))
    assert str(exc).startswith(f"{inc}:"), str(exc)
    assert "UTF-8" in exc.message


def test_included_file_with_utf8_bom_loads_like_a_top_level_file(tmp_path):
    body = "// inc.mof\nclass Bom_Profile : CIM_RegisteredProfile\n{\n};\n"
    (tmp_path / "inc.mof").write_bytes(b"\xef\xbb\xbf" + body.encode())
    (tmp_path / "top.mof").write_bytes(b"\xef\xbb\xbf" + body.replace("Bom_", "Top_").encode())
    conn = connect(mof_files=[tmp_path / "top.mof"])  # a top-level file may have a BOM
    assert conn.GetClass("Top_Profile", namespace="root/interop")
    conn = connect(mof_files=[write(tmp_path, MAIN_INCLUDING, "main.mof")])
    assert conn.GetClass("Bom_Profile", namespace="root/interop")


# -- files that cannot be read -----------------------------------------------------------

def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.mof"
    path.write_bytes(b"// caf\xe9\nclass Latin1_Profile : CIM_RegisteredProfile\n{\n};\n")
    exc = load_error(path)
    assert str(exc).startswith(f"{path}:"), str(exc)
    assert exc.file == str(path)
    assert "not UTF-8" in exc.message


def test_missing_file(tmp_path):
    path = tmp_path / "does-not-exist.mof"
    exc = load_error(path)
    assert str(exc).startswith(f"{path}: "), str(exc)
    assert "cannot read MOF file" in exc.message
    assert "No such file" in exc.message


def test_unexpected_end_of_file(tmp_path):
    path = write(tmp_path, r"""
        class Bad_Eof : CIM_RegisteredProfile
        {
            string Foo;
        """)
    exc = load_error(path)
    assert str(exc).startswith(f"{path}:"), str(exc)
    assert "Unexpected end of MOF" in exc.message


# -- the spec's dialect loads ---------------------------------------------------------

DIALECT = r"""
    #pragma namespace("\\\\.\\root\\interop")
    CLASS Dialect_Profile : CIM_RegisteredProfile
    {
        string RegisteredName;      // redeclared without [Override]
    };

    instance of Dialect_Profile as $DP
    {
         InstanceID = "Dialect";
         RegisteredName = "Dialect";
         RegisteredOrganization = "1"; // Set to "Other"
         OtherRegisteredOrganization = "Microsoft";
         RegisteredVersion = "1.0";
    };

    [Provider("DialectAssociation"),Dynamic]
    Class Dialect_ElementConformsToProfile_v1: CIM_ElementConformsToProfile
    {
         CIM_RegisteredProfile ref ConformantStandard = $DP;
         [MSFT_TargetNamespace("root\\cimv2")]Win32_process ref ManagedElement = null;
    };

    #pragma namespace("//./root/cimv2")
    [Provider("DialectAssociation"),Dynamic]
    Class Dialect_ElementConformsToProfile_v1: CIM_ElementConformsToProfile
    {
         [MSFT_TargetNamespace("root\\interop")] CIM_RegisteredProfile ref ConformantStandard = $DP;
         Win32_process ref ManagedElement = null;
    };
    """

ASSOC = "Dialect_ElementConformsToProfile_v1"
DIALECT_PROFILE = CIMInstanceName("Dialect_Profile", {"InstanceID": "Dialect"},
                                  namespace="root/interop")


@pytest.fixture(scope="module")
def dialect_conn(tmp_path_factory):
    path = write(tmp_path_factory.mktemp("dialect"), DIALECT, "dialect.mof")
    return connect(mof_files=[path])


@pytest.mark.parametrize("namespace", ["root/interop", "root/cimv2"])
def test_capitalised_class_keyword_and_inherited_association(dialect_conn, namespace):
    cls = dialect_conn.GetClass(ASSOC, namespace=namespace, LocalOnly=False,
                                IncludeQualifiers=True)
    assert cls.superclass == "CIM_ElementConformsToProfile"
    assert "Association" in cls.qualifiers
    assert cls.qualifiers["Association"].value is True


def test_property_redeclared_without_override(dialect_conn):
    cls = dialect_conn.GetClass("Dialect_Profile", namespace="root/interop", LocalOnly=False,
                                IncludeQualifiers=True, IncludeClassOrigin=True)
    prop = cls.properties["RegisteredName"]
    assert prop.type == "string"
    assert prop.class_origin == "CIM_RegisteredProfile"
    inst = dialect_conn.GetInstance(DIALECT_PROFILE)
    assert inst["RegisteredName"] == "Dialect"
    assert inst["RegisteredOrganization"] == 1  # the spec's string "1" for a uint16


@pytest.mark.parametrize("namespace", ["root/interop", "root/cimv2"])
def test_alias_reference_default_is_the_instance_path(dialect_conn, namespace):
    cls = dialect_conn.GetClass(ASSOC, namespace=namespace, LocalOnly=False)
    default = cls.properties["ConformantStandard"].value
    assert isinstance(default, CIMInstanceName)
    assert default == DIALECT_PROFILE
    assert default.namespace == "root/interop"
    assert default.host is None
