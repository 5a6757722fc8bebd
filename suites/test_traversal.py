"""Cross-namespace traversal, ResultClass filtering and error paths (TR-*, RC-*, ER-*)."""

import pytest


@pytest.mark.requirement("TR-1")
def test_forward_traversal(verdict, association):
    verdict.expect()


@pytest.mark.requirement("TR-2")
def test_reverse_traversal(verdict, association):
    verdict.expect()


@pytest.mark.requirement("TR-3")
def test_both_sides_see_the_same_pairs(verdict, association):
    verdict.expect()


@pytest.mark.requirement("TR-4")
def test_traversal_strategies_agree(verdict, association):
    verdict.expect()


@pytest.mark.requirement("TR-5")
def test_role_filters(verdict, association):
    verdict.expect()


@pytest.mark.requirement("TR-6")
def test_pull_operations_agree(verdict, association):
    verdict.expect()


@pytest.mark.requirement("RC-1")
def test_resultclass_from_profile(verdict, association):
    verdict.expect()


@pytest.mark.requirement("RC-2")
def test_resultclass_from_element(verdict, association):
    verdict.expect()


@pytest.mark.requirement("RC-3")
def test_resultclass_filters(verdict, association):
    verdict.expect()


@pytest.mark.requirement("RC-4")
def test_resultclass_across_namespaces(verdict, association):
    verdict.expect()


@pytest.mark.requirement("ER-1")
def test_get_nonexistent_instance(verdict):
    verdict.expect()


@pytest.mark.requirement("ER-2")
def test_associators_of_nonexistent_object(verdict, association):
    verdict.expect()
