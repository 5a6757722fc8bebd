"""What clients rely on in a registration (RP-15, RP-16): the Values
qualifier that names organizations, and GetInstance of every registered
profile giving what enumeration gave."""

from __future__ import annotations

from ..observe import RP
from .registry import Judge, check
from .profiles import _listing, _qualifier
from ._common import see_sampled


@check("RP-15")
def organization_values(obs, _subject):
    """RegisteredOrganization declares Values (and, with a ValueMap, as many
    entries): pywbem's get_selected_profiles and ``pywbemcli profile list``
    read CIM_RegisteredProfile's declaration in the interop namespace to name
    each organization, and fail outright without it. Judged on
    CIM_RegisteredProfile and on every class of a registered profile."""
    classes = {RP.lower(): RP}
    for prof in obs.all_profiles:
        classes.setdefault(prof.path.classname.lower(), prof.path.classname)
    j = Judge().see(_listing(obs))
    for name in classes.values():
        out = obs.op("GetClass", name, namespace=obs.interop_ns, LocalOnly=False,
                     IncludeQualifiers=True)
        j.see(out)
        if not out.ok:
            if name == RP:
                j.failed_call(f"GetClass({RP}) in {obs.interop_ns}", out)
            continue  # the profile's own class: RP-10 and RP-11 need it too
        prop = out.value.properties.get("RegisteredOrganization")
        if prop is None:
            j.fail(f"{name} in {obs.interop_ns} declares no RegisteredOrganization", out)
            continue
        j.examined("class declarations")
        values = _qualifier(prop, "Values")
        value_map = _qualifier(prop, "ValueMap")
        if not values:
            j.fail(f"{name}.RegisteredOrganization has "
                   + (f"a ValueMap ({len(value_map)} entries) but " if value_map else "")
                   + "no Values qualifier: clients cannot name the organization (pywbem's "
                   "get_selected_profiles raises ValueError, and pywbemcli profile list "
                   "fails)", out)
        elif value_map and len(value_map) != len(values):
            j.fail(f"{name}.RegisteredOrganization has {len(value_map)} ValueMap entries "
                   f"and {len(values)} Values entries: DSP0004 pairs them one to one, and "
                   "pywbem's ValueMapping raises ModelError", out)
    return j.verdict("RegisteredOrganization declares Values (as many as its ValueMap "
                     "entries) in " + ", ".join(classes.values()))


@check("RP-16")
def get_matches_enumeration(obs, profile):
    """GetInstance of the profile's path, as enumeration gave it, returns
    the instance enumeration returned: the same properties, the same values."""
    path = profile.path
    got = obs.op("GetInstance", path)
    j = Judge().see(_listing(obs))
    see_sampled(j, got)
    if not got.ok:  # whatever the status: the instance exists
        j.fail(f"GetInstance({path}) failed: {got.error.status_code_name}: "
               f"{got.error.status_description}; EnumerateInstances of {RP} listed it", got)
        return j.verdict("")
    mine = {k.lower(): (k, v) for k, v in profile.instance.items()}
    theirs = {k.lower(): (k, v) for k, v in got.value.items()}
    for key in sorted(mine.keys() | theirs.keys()):
        a, b = mine.get(key), theirs.get(key)
        if a is None:
            j.fail(f"GetInstance({path}) returns {b[0]} = {b[1]!r}, which the enumerated "
                   "instance does not have", got)
        elif b is None:
            j.fail(f"GetInstance({path}) leaves out {a[0]}, which enumeration returns "
                   f"({a[1]!r})", got)
        elif a[1] != b[1]:
            j.fail(f"GetInstance({path}) returns {a[0]} = {b[1]!r}, enumeration "
                   f"{a[1]!r}", got)
    j.examined("properties", len(mine))
    return j.verdict(f"GetInstance returns the enumerated instance ({len(mine)} properties)")
