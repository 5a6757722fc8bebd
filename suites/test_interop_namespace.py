"""The interop namespace: its name and its place among the server's namespaces (NS-*)."""

import pytest


@pytest.mark.requirement("NS-1")
def test_interop_namespace_name(verdict):
    verdict.expect()


@pytest.mark.requirement("NS-2")
def test_interop_namespace_listed(verdict):
    verdict.expect()
