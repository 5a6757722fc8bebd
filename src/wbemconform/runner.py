"""Run the whole catalog in-process, without pytest.

The pytest suites are the product's front door; this is the same checks,
over the same Observations, for code that wants verdicts as data: the
project's own tests (the defect zoo), the benchmarks, and tools.
"""

from __future__ import annotations

from .catalog import catalog
from .checks import Verdict, run_check
from .observe import Observations
from .results import TARGET_SUBJECT, Results
from .target import ServerError, TargetOptions, WriteRefused, open_target

__all__ = ["run_catalog", "subjects_for"]


def subjects_for(obs, req):
    if req.subject == "target":
        return [(TARGET_SUBJECT, None)]
    return obs.subjects(req.subject) or [(f"no {req.subject}", None)]


def run_catalog(options: TargetOptions | None = None, *, target=None, only=None):
    """(Results, Observations) for every requirement (or the ids in ``only``).

    PR-5 (the write probes) runs last, as in the suites.
    """
    target = target or open_target(options or TargetOptions())
    opts = target.options
    obs = Observations(target, opts.interop_namespace, opts.flavor, opts.profiles)
    results = Results()
    order = sorted(catalog().values(), key=lambda r: r.id == "PR-5")
    for req in order:
        if only and req.id not in only:
            continue
        for label, subject in subjects_for(obs, req):
            if subject is None and req.subject != "target":
                v = Verdict("not-applicable", f"the target has no {req.subject} to check")
            else:
                target.current_requirement = req.id
                try:
                    v = run_check(req, obs, subject)
                except (ServerError, WriteRefused) as exc:
                    v = Verdict("error", str(exc), target.calls[-1:])
                finally:
                    target.current_requirement = None
            results.add(req.id, label, v.status, v.message, v.problems, v.evidence)
    return results, obs
