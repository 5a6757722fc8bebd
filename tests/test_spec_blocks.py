"""The project's copy of the spec's MOF blocks (tests/data/spec-blocks.mof) is
the spec's, verbatim: the tests that load "the spec's MOF" need no ../shared."""

from conftest import spec_blocks_from_the_spec, spec_mof_blocks


def test_the_copy_has_the_five_blocks_in_order():
    blocks = spec_mof_blocks()
    assert "class ProcessProfile : CIM_RegisteredProfile" in blocks[0]
    assert blocks[1].lstrip().startswith('#pragma namespace("\\\\\\\\.\\\\root\\\\interop")')
    assert "instance of __InstanceProviderRegistration" in blocks[4]


def test_the_copy_is_the_spec_verbatim():
    assert [b.rstrip("\n") for b in spec_mof_blocks()] == \
        [b.rstrip("\n") for b in spec_blocks_from_the_spec()]
