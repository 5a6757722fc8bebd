"""A check never passes on nothing: Judge.examined counts what a check looked
at; all counts 0 and no problem is not-applicable, saying what was examined."""

import zoo
from wbemconform.checks import Judge


def test_nothing_examined_is_not_applicable_with_the_counts():
    j = Judge().examined("central instances", 0).examined("pairs", 0)
    v = j.verdict("the pairs agree", nothing="no pair to compare")
    assert v.status == "not-applicable"
    assert v.message == "no pair to compare (examined nothing: 0 central instances, 0 pairs)"
    assert v.examined == {"central instances": 0, "pairs": 0}


def test_a_problem_fails_whatever_was_counted():
    j = Judge().examined("pairs", 0)
    j.fail("the server failed")
    assert j.verdict("ok").status == "fail"


def test_a_pass_carries_what_it_examined():
    j = Judge().examined("pairs", 2).examined("sources", 0).examined("pairs", 1)
    v = j.verdict("3 pairs agree")
    assert (v.status, v.examined) == ("pass", {"pairs": 3, "sources": 0})


def test_a_check_that_counts_nothing_passes_as_before():
    assert Judge().verdict("fine").status == "pass"


def test_records_carry_the_counts_into_the_json():
    results, _ = zoo.run("good-spec-process")
    tr3 = next(iter(results.records["TR-3"].values())).as_dict()
    assert tr3["verdict"] == "pass" and tr3["examined"]["(profile, element) pairs"] > 0
