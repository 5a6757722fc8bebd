"""Profile registration in the interop namespace (RP-*, CI-1)."""

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
