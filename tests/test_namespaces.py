r"""Property-based tests of wbemconform.namespaces.

What the spec asks of a namespace string (``#pragma namespace``,
``MSFT_TargetNamespace``): a bare name or the local-machine form ``\\\\.\\``
names the local machine; any other machine is remote ("The
MSFT_TargetNamespace qualifier cannot point to a namespace on a remote
computer"). Example counts come from the hypothesis profiles in the root
conftest.py (dev / ci / thorough), never from per-test settings.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbemconform.namespaces import (NamespaceSyntaxError, TargetNamespace,
                                    is_local_namespace, parse_namespace)

# -- strategies ----------------------------------------------------------------

identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,23}", fullmatch=True)
segment_lists = st.lists(identifiers, min_size=1, max_size=4)
separators = st.sampled_from(["\\", "/"])


@st.composite
def joined(draw, segments):
    """The segments joined by separators drawn one by one (so mixed too)."""
    text = segments[0]
    for seg in segments[1:]:
        text += draw(separators) + seg
    return text


@st.composite
def local_forms(draw):
    """(text, segments): a local namespace in one of the forms WMI accepts."""
    segments = draw(segment_lists)
    body = draw(joined(segments))
    form = draw(st.sampled_from(["bare", "leading", "unc_dot", "slash_dot"]))
    if form == "bare":
        text = body
    elif form == "leading":  # one leading separator: "\root\cimv2", "/root/cimv2"
        text = draw(separators) + body
    elif form == "unc_dot":
        text = "\\\\.\\" + body
    else:
        text = "//./" + body
    trailing = draw(st.lists(separators, max_size=2))
    return text + "".join(trailing), segments


hostnames = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,20}", fullmatch=True).filter(
    lambda h: h != ".")
hosts = st.one_of(
    hostnames,
    st.just("localhost"),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
)


@st.composite
def remote_forms(draw):
    """(text, host, expected parsed host, segments): a namespace on another machine."""
    host = draw(hosts)
    segments = draw(segment_lists)
    form = draw(st.sampled_from(["unc", "slashes", "http", "https"]))
    if form == "unc":
        text, parsed_host = "\\\\" + host + "\\" + "\\".join(segments), host
    elif form == "slashes":
        text, parsed_host = "//" + host + "/" + "/".join(segments), host
    elif form == "http":
        # the parsed host keeps the port, like pywbem's CIMInstanceName.host
        text, parsed_host = f"http://{host}:5988/" + "/".join(segments), f"{host}:5988"
    else:
        text, parsed_host = f"https://{host}/" + "/".join(segments), host
    return text, host, parsed_host, segments


invalid_segments = st.one_of(
    st.builds(lambda d, rest: d + rest, st.sampled_from("0123456789"),
              st.from_regex(r"[A-Za-z0-9_]{0,8}", fullmatch=True)),         # digit first
    st.builds(lambda a, bad, b: a + bad + b, identifiers,
              st.sampled_from([" ", "-", ".", "$", "é", "\t"]), identifiers),  # bad character inside
)


@st.composite
def malformed_forms(draw):
    """A string that names no namespace: one segment is not an identifier."""
    segments = draw(segment_lists)
    index = draw(st.integers(0, len(segments)))
    segments = segments[:index] + [draw(invalid_segments)] + segments[index:]
    body = draw(joined(segments))
    prefix = draw(st.sampled_from(["", "\\\\.\\", "//./", "\\\\host\\"]))
    return prefix + body


# -- properties -------------------------------------------------------------------

@given(local_forms())
def test_local_forms_are_local_and_normalised(case):
    text, segments = case
    target = parse_namespace(text)
    assert isinstance(target, TargetNamespace)
    assert target.is_local
    assert is_local_namespace(text)
    assert target.host in (None, ".")
    assert target.name == "/".join(segments)
    assert target.text == text


@given(local_forms())
def test_normalised_name_parses_to_itself(case):
    text, _ = case
    name = parse_namespace(text).name
    again = parse_namespace(name)
    assert again.name == name
    assert again.host is None
    assert again.is_local


@given(remote_forms())
def test_remote_forms_are_never_local_and_keep_the_host(case):
    text, host, parsed_host, segments = case
    target = parse_namespace(text)
    assert not target.is_local
    assert not is_local_namespace(text)
    assert target.host == parsed_host
    assert host in target.host
    assert target.name == "/".join(segments)


@given(segment_lists, separators)
def test_local_machine_dot_is_the_only_local_host(segments, sep):
    body = sep.join(segments)
    assert is_local_namespace(sep * 2 + "." + sep + body)
    assert not is_local_namespace(sep * 2 + "localhost" + sep + body)


@given(malformed_forms())
def test_malformed_namespaces_raise(text):
    with pytest.raises(NamespaceSyntaxError):
        parse_namespace(text)
    with pytest.raises(NamespaceSyntaxError):
        is_local_namespace(text)


@given(st.text(alphabet="\\/ ", max_size=6))
def test_only_separators_and_blanks_raise(text):
    with pytest.raises(NamespaceSyntaxError):
        parse_namespace(text)


@given(segment_lists.filter(lambda s: len(s) >= 2), st.data())
def test_empty_segment_inside_raises(segments, data):
    index = data.draw(st.integers(1, len(segments) - 1))
    seps = data.draw(st.sampled_from(["//", "\\\\", "/\\", "\\/"]))
    text = "/".join(segments[:index]) + seps + "/".join(segments[index:])
    with pytest.raises(NamespaceSyntaxError):
        parse_namespace(text)


# -- the spec's exact strings and a few fixed cases ------------------------------------

def test_spec_pragma_local_machine_form_is_local():
    # MOF source: #pragma namespace("\\\\.\\root\\interop"); value after MOF
    # unescaping: \\.\root\interop
    text = '\\\\.\\root\\interop'
    assert text == r"\\.\root\interop"
    target = parse_namespace(text)
    assert target.is_local
    assert target.host == "."
    assert target.name == "root/interop"
    assert is_local_namespace(text)


@pytest.mark.parametrize("text, name", [
    (r"root\cimv2", "root/cimv2"),      # [MSFT_TargetNamespace("root\\cimv2")]
    (r"root\interop", "root/interop"),  # [MSFT_TargetNamespace("root\\interop")]
    (r"\\.\root\cimv2", "root/cimv2"),  # #pragma namespace("\\\\.\\root\\cimv2")
    ("//./root/cimv2", "root/cimv2"),
    ("root/cimv2/", "root/cimv2"),
])
def test_spec_local_namespaces(text, name):
    target = parse_namespace(text)
    assert target.is_local
    assert target.name == name


def test_spec_remote_machine_example_is_remote():
    # the spec's unsupported example, as the article renders it in MOF
    # (\\\\<RemoteMachine>\\root\\interop); value after MOF unescaping:
    text = r"\\RemoteMachine\root\interop"
    target = parse_namespace(text)
    assert not target.is_local
    assert target.host == "RemoteMachine"
    assert target.name == "root/interop"
    assert not is_local_namespace(text)


@pytest.mark.parametrize("text", [
    "", "   ", "\\", "/", "//", "\\\\", "///", r"\\\root", r"\\.", r"\\.\ ",
    r"root\bad name", r"root\\bad name", "1root", r"root\2x", "root//x", "http:///root",
    "https://host", "root\\interop\\x-y",
])
def test_malformed_examples_raise(text):
    with pytest.raises(NamespaceSyntaxError):
        parse_namespace(text)


@pytest.mark.parametrize("value", [None, 42, b"root/cimv2"])
def test_non_string_raises(value):
    with pytest.raises(NamespaceSyntaxError):
        parse_namespace(value)
