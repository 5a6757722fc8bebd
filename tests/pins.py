"""What the real-server pin tests (tests/test_openpegasus.py, tests/test_omi.py)
share: the key a pinned verdict is filed under, the records two runs are
compared by, and the check that a replayed run had every answer it asked for."""


def subject_key(rid, label):
    """(requirement, subject, variant) of a record: an association's subject by
    its class name alone ("Array 1.1.0 -> ns:Test_X" -> "Test_X")."""
    base, _, variant = label.partition(" [")
    variant = variant.rstrip("]")
    if " -> " in base:
        base = base.rpartition(":")[2]
    return (rid, base, variant)


def records(doc):
    """{(requirement, subject): (verdict, message, problems)} of a results document."""
    return {(rid, s): (r["verdict"], r["message"], r.get("problems"))
            for rid, req in doc["requirements"].items() for s, r in req["subjects"].items()}


def answered(served, result, record_again):
    """``result``, once it is clear that every request had its answer: replayed,
    a request the recording lacks fails the test naming it (it was answered
    HTTP 500, which the run shows as an error). ``record_again``: the command
    that records anew."""
    missing = served.missing()
    assert not missing, (
        f"the recording lacks {len(missing)} request(s) the suites made (record again "
        f"against a live server: {record_again}):\n" + "\n".join(missing[:10]))
    return result
