"""The CIM_ElementConformsToProfile subclasses and their schema (EC-*, SC-1)."""

import pytest


@pytest.mark.requirement("EC-1")
def test_declared_in_both_namespaces(verdict, association):
    verdict.expect()


@pytest.mark.requirement("EC-2")
def test_naming_convention(verdict, association):
    verdict.expect()


@pytest.mark.requirement("EC-3")
def test_target_namespace_qualifiers(verdict, association):
    verdict.expect()


@pytest.mark.requirement("EC-4")
def test_no_remote_target_namespace(verdict, association):
    verdict.expect()


@pytest.mark.requirement("EC-5")
def test_references_resolve(verdict, association):
    verdict.expect()


@pytest.mark.requirement("SC-1")
def test_schema_in_implementation_namespace(verdict, association):
    verdict.expect()
