"""Property-based suites: hypothesis draws sources, classes and namespaces from
what discovery found (bounded by --wbem-hypothesis-profile)."""

import pytest


@pytest.mark.requirement("RC-1")
def test_filters_equal_client_side_filtering(property_verdict, association):
    property_verdict.expect()


@pytest.mark.requirement("RC-4")
def test_filters_across_namespaces_equal_client_side_filtering(property_verdict, association):
    property_verdict.expect()


@pytest.mark.requirement("EC-4")
def test_remote_target_namespaces_rejected(property_verdict, association):
    property_verdict.expect()


@pytest.mark.requirement("RP-3")
def test_duplicate_profiles_flagged(property_verdict, profile):
    property_verdict.expect()
