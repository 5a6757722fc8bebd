"""Every defect-zoo entry, served by the mock over WS-Management (the /wsman
app of ``wbemconform serve``) and judged through the WS-Management target,
gets the verdicts it gets in process -- except the documented capability
not-applicables (issue 20): what WS-Management lacks is declared by the
target (targets/wsman.py) and the requirements that need it are
not-applicable with the reason (checks/_common.py: NEEDS), never another
verdict."""

import pytest

import zoo
from test_capabilities import DISCOVERY_LIMITS
from wbemconform.checks._common import NEEDS
from wbemconform.options import TargetOptions
from wbemconform.runner import run_session
from wbemconform.server import default_apps, serve
from wbemconform.targets import open_target


#: requirements a capability the WS-Management target lacks makes not
#: applicable (checks/_common.NEEDS). PR-5 is not among them: with
#: --wbem-allow-writes the target sends WS-Transfer Create/Put/Delete, and
#: PR-5 gets the in-process verdict (accepts-delete fails it over WS-Man too)
WSMAN_NEEDS = {rid: cap for rid, (cap, _) in NEEDS.items()}


def _differences(local, over_wsman, lacking):
    """{requirement: (in process, over WS-Management)} that the documented
    capability list does not explain."""
    out = {}
    for rid in local.records:
        want, got = local.overall(rid), over_wsman.results.overall(rid)
        if want == got:
            continue
        if WSMAN_NEEDS.get(rid) in lacking and got == "not-applicable":
            continue  # documented: the requirement needs what the target lacks
        out[rid] = (want, got)
    return out


@pytest.mark.parametrize("name", zoo.entries())
def test_entry_over_wsman_has_the_in_process_verdicts(name):
    local, _ = zoo.run(name)
    opts = zoo.options(name)
    mock = open_target(opts).conn  # loads the MOF as the suites do
    with serve(mock, apps=default_apps()) as server:
        session = run_session(TargetOptions(
            url=server.url + "/wsman", timeout=20, allow_writes=True, flavor=opts.flavor,
            workers=1, profile_defs=opts.profile_defs, interop_namespace=opts.interop_namespace))
    target = session.target
    assert target is not None and not session.setup_error, session.setup_error
    lacking = {c for c in ("pull-operations", "class-retrieval", "class-enumeration",
                           "exact-fault-codes", "writes") if not target.can(c)}
    assert lacking == {"pull-operations", "class-enumeration", "exact-fault-codes"}, lacking
    if name == "accepts-delete":  # the negative control of PR-5, over WS-Transfer
        assert session.results.overall("PR-5") == "fail"
    differences = _differences(local, session, lacking)
    if name in DISCOVERY_LIMITS and DISCOVERY_LIMITS[name][0] in lacking:
        differences = {rid: v for rid, v in differences.items() if v[1] != "not-applicable"}
    assert not differences, differences
