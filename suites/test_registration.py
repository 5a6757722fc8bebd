"""Profile registration in the interop namespace, the profile graph and the
advertisement methodologies (RP-*, CI-*)."""

import pytest


@pytest.mark.requirement("RP-1")
def test_registered_profiles_exist(verdict):
    verdict.expect()


@pytest.mark.requirement("RP-2")
def test_required_properties(verdict, profile):
    verdict.expect()


@pytest.mark.requirement("RP-3")
def test_unique_name_organization_version(verdict, profile):
    verdict.expect()


@pytest.mark.requirement("RP-4")
def test_other_organization_is_named(verdict, profile):
    verdict.expect()


@pytest.mark.requirement("RP-5")
def test_windows_profile_organization(verdict, profile):
    verdict.expect()


@pytest.mark.requirement("RP-6")
def test_dmtf_version_format(verdict, profile):
    verdict.expect()


@pytest.mark.requirement("RP-7")
def test_advertise_types_consistent(verdict, profile):
    verdict.expect()


@pytest.mark.requirement("RP-8")
def test_profile_registration_advertised(verdict):
    verdict.expect()


@pytest.mark.requirement("RP-9")
def test_referenced_profiles(verdict):
    verdict.expect()


@pytest.mark.requirement("CI-1")
def test_central_instances_agree_with_pywbem(verdict, profile):
    verdict.expect()


@pytest.mark.requirement("RP-10")
def test_advertise_types_rules(verdict, profile):
    verdict.expect()


@pytest.mark.requirement("RP-11")
def test_organization_in_value_map(verdict, profile):
    verdict.expect()


@pytest.mark.requirement("RP-12")
def test_referenced_profile_direction(verdict):
    verdict.expect()


@pytest.mark.requirement("RP-13")
def test_component_profile_can_be_found(verdict, profile):
    verdict.expect()


@pytest.mark.requirement("RP-14")
def test_no_reference_cycles(verdict):
    verdict.expect()


@pytest.mark.requirement("RP-15")
def test_organization_has_values(verdict):
    verdict.expect()


@pytest.mark.requirement("RP-16")
def test_profile_get_matches_enumeration(verdict, profile):
    verdict.expect()


@pytest.mark.requirement("CI-2")
def test_central_class_methodology(verdict, profile):
    verdict.expect()


@pytest.mark.requirement("CI-3")
def test_scoping_class_methodology(verdict, profile):
    verdict.expect()


@pytest.mark.requirement("CI-4")
def test_get_central_instances_method(verdict, profile):
    verdict.expect()
