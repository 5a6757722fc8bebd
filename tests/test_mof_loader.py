"""The MOF loader against hostile or unusual input: include chains, line ends,
aliases, references to classes that exist nowhere, huge tokens.

Each of these misbehaved once (RecursionError, a file silently swallowed by
its first comment, a second alias accepted, a misspelt class accepted, 0.7 GB
for a 1 MB string); the tests pin the behaviour that replaced it.
"""

import json
import subprocess
import sys
import textwrap

import pytest

from wbemconform import mof as mof_module
from wbemconform.mock import MofLoadError, connect
from wbemconform.mof import MAX_INCLUDE_DEPTH
from wbemconform.mof import grammar as mof_grammar


def write(path, text, newline="\n"):
    path.write_bytes(textwrap.dedent(text).lstrip("\n").replace("\n", newline).encode())
    return path


def load_error(*args, **kwargs):
    with pytest.raises(MofLoadError) as excinfo:
        connect(*args, **kwargs)
    assert "Traceback" not in str(excinfo.value)
    return excinfo.value


# -- #pragma include depth ------------------------------------------------------------

def include_chain(tmp_path, depth):
    """inc0.mof includes inc1.mof ... includes inc<depth>.mof, which declares a class."""
    for i in range(depth):
        (tmp_path / f"inc{i}.mof").write_text(f'// level {i}\n#pragma include("inc{i + 1}.mof")\n')
    (tmp_path / f"inc{depth}.mof").write_text("class Deep_Profile : CIM_RegisteredProfile\n{\n};\n")
    return tmp_path / "inc0.mof"


def test_include_chain_120_deep_is_a_one_line_error_naming_the_depth(tmp_path):
    exc = load_error([include_chain(tmp_path, 120)])
    assert exc.file == str(tmp_path / f"inc{MAX_INCLUDE_DEPTH}.mof")
    assert exc.line == 2
    assert f"include depth {MAX_INCLUDE_DEPTH + 1} exceeds the limit of {MAX_INCLUDE_DEPTH}" \
        in exc.message
    assert "inc0.mof -> inc1.mof" in exc.message and f"inc{MAX_INCLUDE_DEPTH + 1}.mof" in exc.message
    assert "\n" not in str(exc)


def test_include_chain_at_the_limit_loads(tmp_path):
    conn = connect([include_chain(tmp_path, MAX_INCLUDE_DEPTH)])
    assert conn.GetClass("Deep_Profile", namespace="root/interop").superclass == \
        "CIM_RegisteredProfile"


def test_include_cycle_is_compiled_once(tmp_path):
    write(tmp_path / "a.mof", '#pragma include("b.mof")\nclass Cycle_A : CIM_RegisteredProfile\n{\n};\n')
    write(tmp_path / "b.mof", '#pragma include("a.mof")\nclass Cycle_B : CIM_RegisteredProfile\n{\n};\n')
    conn = connect([tmp_path / "a.mof"])
    assert conn.GetClass("Cycle_B", namespace="root/interop")
    assert conn.GetClass("Cycle_A", namespace="root/interop")


# -- line ends ----------------------------------------------------------------------------

CR_MOF = """
    // a comment on line 1
    class CR_Profile : CIM_RegisteredProfile
    {
    };
    instance of CR_Profile
    {
        InstanceID = "cr";
        Bogus = 1;
    };
    """


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"], ids=["CR", "CRLF", "LF"])
def test_line_ends_do_not_hide_mof_and_errors_name_the_right_line(tmp_path, newline):
    good = write(tmp_path / "good.mof", "\n".join(CR_MOF.splitlines()[:5]) + "\n", newline)
    conn = connect([good])
    assert conn.GetClass("CR_Profile", namespace="root/interop")
    bad = write(tmp_path / "bad.mof", CR_MOF, newline)
    exc = load_error([bad])
    assert (exc.file, exc.line) == (str(bad), 5), str(exc)  # the "instance of" line
    assert "'Bogus'" in exc.message


def test_mixed_line_ends_count_every_break(tmp_path):
    path = tmp_path / "mixed.mof"
    path.write_bytes(b"// one\r// two\r\n// three\nclass Mixed_Profile : No_Such_Class\r{\r};\r")
    exc = load_error([path])
    assert exc.line == 4, str(exc)
    assert "No_Such_Class" in exc.message


def test_syntax_error_after_a_multiline_comment_names_its_line(tmp_path):
    path = write(tmp_path / "c.mof", """
        /* a comment
           over three
           lines */
        class Comment_Profile : CIM_RegisteredProfile
        {
            string Foo
        };
        """)
    exc = load_error([path])
    assert exc.line == 7, str(exc)
    assert "syntax error" in exc.message


# -- aliases ---------------------------------------------------------------------------------

PROFILE_INSTANCE = """
    instance of CIM_RegisteredProfile as {alias}
    {{
        InstanceID = "{iid}"; RegisteredName = "{iid}"; RegisteredOrganization = 1;
        OtherRegisteredOrganization = "Contoso"; RegisteredVersion = "1.0";
    }};
    """


def test_duplicate_instance_alias_names_the_alias_and_the_first_definition(tmp_path):
    path = write(tmp_path / "dup.mof", PROFILE_INSTANCE.format(alias="$X", iid="one")
                 + PROFILE_INSTANCE.format(alias="$X", iid="two"))
    exc = load_error([path])
    assert (exc.file, exc.line) == (str(path), 7), str(exc)  # line 6 is blank
    assert "alias $X is already defined at line 1" in exc.message


def test_duplicate_alias_in_an_included_file_names_that_file(tmp_path):
    inc = write(tmp_path / "inc.mof", PROFILE_INSTANCE.format(alias="$P", iid="inc"))
    main = write(tmp_path / "main.mof", '#pragma include("inc.mof")\n'
                 + PROFILE_INSTANCE.format(alias="$P", iid="main"))
    exc = load_error([main])
    assert (exc.file, exc.line) == (str(main), 3), str(exc)
    assert f"alias $P is already defined at {inc}:1" in exc.message


def test_aliases_are_per_file_as_with_mofcomp(tmp_path):
    a = write(tmp_path / "a.mof", PROFILE_INSTANCE.format(alias="$X", iid="a"))
    b = write(tmp_path / "b.mof", PROFILE_INSTANCE.format(alias="$X", iid="b"))
    conn = connect([a, b])
    assert len(conn.EnumerateInstanceNames("CIM_RegisteredProfile", namespace="root/interop")) == 2


# -- references to classes that exist nowhere -----------------------------------------------

TYPO = r"""
    class Fabrikam_Service : CIM_LogicalElement
    {
        [Key] string Name;
    };

    #pragma namespace("\\\\.\\root\\interop")
    [Provider("FabrikamAssociation"), Dynamic]
    Class Fabrikam_ElementConformsToProfile : CIM_ElementConformsToProfile
    {
        CIM_RegisteredProfile ref ConformantStandard = null;
        [MSFT_TargetNamespace("root\\cimv2")] Fabrikam_Servise ref ManagedElement = null;
    };
    """


def test_reference_to_a_class_that_exists_nowhere_is_a_wmi_load_warning(tmp_path):
    path = tmp_path / "typo.mof"
    path.write_text('#pragma namespace("root/cimv2")\n' + textwrap.dedent(TYPO).lstrip("\n"))
    conn = connect([path])
    warnings = [str(w) for w in conn.load_warnings]
    assert len(warnings) == 1, warnings
    text = warnings[0]
    assert text.startswith(f"{path}:12: warning: "), text
    assert "Fabrikam_ElementConformsToProfile.ManagedElement refers to class " \
           "'Fabrikam_Servise'" in text
    assert "not in root/interop nor root/cimv2" in text
    assert "did you mean 'Fabrikam_Service'?" in text
    assert "WMI accepts this" in text


def test_reference_to_a_class_that_exists_nowhere_is_a_dmtf_load_error(tmp_path):
    path = tmp_path / "typo.mof"
    path.write_text('#pragma namespace("root/cimv2")\n' + textwrap.dedent(TYPO).lstrip("\n"))
    exc = load_error([path], dialect="dmtf")
    assert (exc.file, exc.line) == (str(path), 12), str(exc)
    assert "'Fabrikam_Servise'" in exc.message


def test_target_namespace_without_the_class_is_a_warning(tmp_path):
    path = write(tmp_path / "wrong.mof", r"""
        #pragma namespace("\\\\.\\root\\interop")
        [Provider("P"), Dynamic]
        Class Wrong_ElementConformsToProfile : CIM_ElementConformsToProfile
        {
            CIM_RegisteredProfile ref ConformantStandard = null;
            [MSFT_TargetNamespace("root\\interop")] Win32_Process ref ManagedElement = null;
        };
        """)
    warnings = [str(w) for w in connect([path]).load_warnings]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"{path}:6: warning: ")
    assert "names root/interop, which has no class 'Win32_Process' (it is declared in " \
           "root/cimv2)" in warnings[0]


def test_the_spec_mof_loads_without_warnings(spec_mof):
    # the interop-side class refers to Win32_Process, which lives in root\cimv2
    # and is named by MSFT_TargetNamespace: WMI's normal case, not a mistake
    conn = connect([spec_mof()])
    assert conn.load_warnings == []


def test_example_profiles_load_without_warnings():
    assert connect().load_warnings == []


# -- huge tokens: time and memory linear in the size -----------------------------------------

MEASURE = r"""
import json, resource, sys
from wbemconform.mock import connect
kind, size, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
body = {
    "string": 'class Big_X : CIM_RegisteredProfile { string S = "' + "a" * size + '"; };',
    "escapes": 'class Big_X : CIM_RegisteredProfile { string S = "' + "\\n" * (size // 2) + '"; };',
    "identifier": "class Big_" + "a" * size + " : CIM_RegisteredProfile { };",
    "comment": "/*" + "a*" * (size // 2) + "*/ class Big_X : CIM_RegisteredProfile { };",
}[kind]
small = path + ".small"
open(small, "w").write("class Small_X : CIM_RegisteredProfile { };\n")
connect([small])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
open(path, "w").write(body + "\n")
connect([path])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"kib": after - before}))
"""


@pytest.mark.parametrize("kind", ["string", "escapes", "identifier", "comment"])
def test_a_2mb_token_costs_memory_linear_in_its_size(tmp_path, kind):
    """Before: pywbem's lexer took 0.7 GB for a 1 MB string literal (1.2 GB for
    an identifier). A 2 MB token must now cost well under 64 MB more than a
    small file (the text itself, a few copies of it)."""
    out = subprocess.run([sys.executable, "-c", MEASURE, kind, str(2 * 1024 * 1024),
                          str(tmp_path / "big.mof")],
                         capture_output=True, text=True, timeout=120, check=True)
    grown_mib = json.loads(out.stdout.strip().splitlines()[-1])["kib"] / 1024
    assert grown_mib < 64, f"{kind}: {grown_mib:.0f} MiB for a 2 MiB token"


def test_file_larger_than_the_cap_is_refused_with_its_size(tmp_path, monkeypatch):
    monkeypatch.setattr(mof_module, "MAX_MOF_BYTES", 1000)
    path = tmp_path / "large.mof"
    path.write_text("// x\n" * 300)
    exc = load_error([path])
    assert exc.file == str(path)
    assert "MOF file is 1500 bytes; the limit is 1000" in exc.message


def test_linear_lexer_replaces_pywbems_three_token_patterns():
    """PRIVATE USE of pywbem's lexer (wbemconform.mof.grammar._linear_lexer): fails
    loudly when pywbem's token patterns change."""
    from pywbem import MOFCompiler
    lexer = MOFCompiler(None).lexer
    before = [m.pattern for m, _ in lexer.lexstatere["INITIAL"]]
    for name, (old, _) in mof_grammar._LINEAR_TOKENS.items():
        assert any(f"(?P<{name}>{old})" in p for p in before), f"pywbem changed {name}"
    mof_grammar._linear_lexer(lexer)
    after = "".join(m.pattern for m, _ in lexer.lexstatere["INITIAL"])
    for name, (_, new) in mof_grammar._LINEAR_TOKENS.items():
        assert new in after
    # every token keeps its group number, so PLY maps it to the same function
    old_groups = [sorted(re_.groupindex.items()) for re_ in
                  (__import__("re").compile(p) for p in before)]
    new_groups = [sorted(m.groupindex.items()) for m, _ in lexer.lexstatere["INITIAL"]]
    assert old_groups == new_groups
    with pytest.raises(mof_module.LexerChanged, match="t_stringValue"):
        broken = MOFCompiler(None).lexer
        broken.lexstatere["INITIAL"] = [
            (__import__("re").compile(m.pattern.replace("t_stringValue", "t_other")), f)
            for m, f in broken.lexstatere["INITIAL"]]
        mof_grammar._linear_lexer(broken)


def test_linear_lexer_accepts_what_pywbems_accepts(tmp_path):
    path = write(tmp_path / "tokens.mof", r"""
        /* a * comment ** with stars */
        [Description("esc: \"q\" \\ \t \x41 \X00e9" " and " "concatenation")]
        class Tok_Profile : CIM_RegisteredProfile   /**/
        {
            string S = "";
        };
        """)
    conn = connect([path])
    cls = conn.GetClass("Tok_Profile", namespace="root/interop", IncludeQualifiers=True)
    assert cls.qualifiers["Description"].value == 'esc: "q" \\ \t A \u00e9 and concatenation'
