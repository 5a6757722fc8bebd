"""The association provider: enumeration, get, query, registration, writes (PR-*)."""

import pytest


@pytest.mark.requirement("PR-1")
def test_enumeration(verdict, association):
    verdict.expect()


@pytest.mark.requirement("PR-2")
def test_get_matches_enumeration(verdict, association):
    verdict.expect()


@pytest.mark.requirement("PR-3")
def test_query(verdict, association):
    verdict.expect()


@pytest.mark.requirement("PR-4")
def test_provider_registration(verdict, association):
    verdict.expect()


@pytest.mark.requirement("PR-5")
def test_writes_refused(verdict, association):
    verdict.expect()
