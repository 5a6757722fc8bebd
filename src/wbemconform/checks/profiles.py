"""Registered-profile requirements (RP-*, CI-1)."""

from __future__ import annotations

import re

from pywbem import CIMInstanceName

from ..observe import RP
from ..pywbem_server import logged_wbem_server
from ..targets.base import ServerError, WriteRefused
from ..observe.operations import is_undetermined
from .registry import Judge, Verdict, check, not_applicable
from ._common import JUDGED_WITHOUT, capability_reason, path_key, with_namespace

REQUIRED = ("InstanceID", "RegisteredName", "RegisteredOrganization", "RegisteredVersion")
ORG_OTHER, ORG_DMTF = 1, 2
MNU = re.compile(r"\d+\.\d+\.\d+\Z")


def _listing(obs):
    return obs.op("EnumerateInstances", RP, namespace=obs.interop_ns, DeepInheritance=True)


@check("RP-1")
def registered_profiles_exist(obs, _subject):
    j = Judge().see(_listing(obs))
    out = _listing(obs)
    if not out.ok:
        j.fail(f"EnumerateInstances of {RP} in {obs.interop_ns} failed: "
               f"{out.error.status_code_name}", out)
    elif not out.value:
        j.fail(f"no {RP} instance in {obs.interop_ns}", out)
    return j.verdict(f"{len(obs.all_profiles)} registered profile(s) in {obs.interop_ns}")


@check("RP-2")
def required_properties(obs, profile):
    j = Judge().see(_listing(obs))
    for name in REQUIRED:
        value = profile.instance.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            j.fail(f"{profile.path}: {name} is {'empty' if value is not None else 'null'}")
    return j.verdict("InstanceID, RegisteredName, RegisteredOrganization, RegisteredVersion are set")


@check("RP-3")
def unique_triple(obs, profile):
    j = Judge().see(_listing(obs))
    mine = (profile.name, profile.organization, profile.version)
    twins = [p for p in obs.profiles_with_triple(mine) if p.key != profile.key]
    if twins:
        org = profile.organization[1]
        j.fail(f"{profile.path} has the same RegisteredName {profile.name!r}, organization "
               f"{org!r} and RegisteredVersion {profile.version!r} as "
               + ", ".join(str(t.path) for t in twins))
    return j.verdict("name / organization / version triple is unique")


@check("RP-4")
def other_organization_named(obs, profile):
    org = profile.instance.get("RegisteredOrganization")
    if org != ORG_OTHER:
        return not_applicable(f"RegisteredOrganization is {org}, not 1 (Other)")
    j = Judge().see(_listing(obs))
    other = profile.instance.get("OtherRegisteredOrganization")
    if not other or not str(other).strip():
        j.fail(f"{profile.path}: RegisteredOrganization is 1 (Other) but "
               "OtherRegisteredOrganization is empty")
    return j.verdict(f"OtherRegisteredOrganization = {other!r}")


def _is_windows_profile(profile):
    other = (profile.instance.get("OtherRegisteredOrganization") or "").lower()
    return "microsoft" in other or profile.path.classname.lower().startswith(("microsoft_", "msft_"))


@check("RP-5")
def windows_profile_organization(obs, profile):
    if not _is_windows_profile(profile):
        return not_applicable("not a Windows (Microsoft) profile")
    j = Judge().see(_listing(obs))
    org = profile.instance.get("RegisteredOrganization")
    other = profile.instance.get("OtherRegisteredOrganization")
    if org != ORG_OTHER:
        j.fail(f"{profile.path}: RegisteredOrganization is {org}, not 1 (Other)")
    if other != "Microsoft":
        j.fail(f"{profile.path}: OtherRegisteredOrganization is {other!r}, not 'Microsoft'")
    return j.verdict("RegisteredOrganization = 1, OtherRegisteredOrganization = 'Microsoft'")


@check("RP-6")
def version_format(obs, profile):
    if profile.instance.get("RegisteredOrganization") != ORG_DMTF:
        return not_applicable("not a DMTF profile: DSP1033's M.N.U format governs DMTF "
                              "profiles (the spec's own Windows example uses '1.0')")
    j = Judge().see(_listing(obs))
    if not MNU.match(str(profile.version or "")):
        j.fail(f"{profile.path}: RegisteredVersion {profile.version!r} is not M.N.U")
    return j.verdict(f"RegisteredVersion {profile.version!r} is M.N.U")


@check("RP-7")
def advertise_types(obs, profile):
    types = profile.instance.get("AdvertiseTypes")
    descriptions = profile.instance.get("AdvertiseTypeDescriptions")
    if types is None and descriptions is None:
        return not_applicable("AdvertiseTypes is null (not advertised)")
    j = Judge().see(_listing(obs))
    types = [int(t) if t is not None else None for t in types or []]
    if descriptions is not None and len(descriptions) != len(types):
        j.fail(f"{profile.path}: {len(descriptions)} AdvertiseTypeDescriptions for "
               f"{len(types)} AdvertiseTypes")
    for i, t in enumerate(types):
        if t == 1:
            desc = descriptions[i] if descriptions and i < len(descriptions) else None
            if not desc:
                j.fail(f"{profile.path}: AdvertiseTypes[{i}] is 1 (Other) without a description")
    return j.verdict(f"AdvertiseTypes {types} and descriptions agree")


@check("RP-8")
def profile_registration_advertised(obs, _subject):
    if obs.flavor == "wmi":
        return not_applicable("WMI does not register the Profile Registration profile")
    j = Judge().see(_listing(obs))
    if not any((p.name or "").lower() == "profile registration" and
               p.instance.get("RegisteredOrganization") == ORG_DMTF for p in obs.all_profiles):
        j.fail("no registered profile named 'Profile Registration' with organization DMTF (2)")
    return j.verdict("the Profile Registration profile is advertised")


@check("RP-9")
def referenced_profiles(obs, _subject):
    out = obs.op("EnumerateInstances", "CIM_ReferencedProfile", namespace=obs.interop_ns)
    if not out.ok or not out.value:
        return not_applicable("no CIM_ReferencedProfile instances"
                              + ("" if out.ok else f" ({out.error.status_code_name})"))
    j = Judge().see(out)
    for inst in out.value:
        ante, dep = inst.get("Antecedent"), inst.get("Dependent")
        if not isinstance(ante, CIMInstanceName) or not isinstance(dep, CIMInstanceName):
            j.fail(f"{inst.path}: Antecedent or Dependent is not a reference")
            continue
        if path_key(ante, obs.interop_ns) == path_key(dep, obs.interop_ns):
            j.fail(f"{inst.path}: Antecedent and Dependent are the same profile")
        for role, ref in (("Antecedent", ante), ("Dependent", dep)):
            if obs.profile_by_key(path_key(ref, obs.interop_ns)) is None:
                got = obs.op("GetInstance", ref if ref.namespace else
                             with_namespace(ref, obs.interop_ns))
                j.fail(f"{inst.path}: {role} {ref} is not a registered profile of "
                       f"{obs.interop_ns}", got)
    return j.verdict(f"{len(out.value)} CIM_ReferencedProfile instance(s) link registered profiles")


@check("CI-1")
def central_instances(obs, profile):
    assocs = [a for a in obs.associations
              if any(p.key == profile.key for p in obs.linked_profiles(a))]
    if not assocs:
        return not_applicable("no CIM_ElementConformsToProfile association names this profile")
    j = Judge()
    ours = {}  # what the server's own traversal gives (its correctness is TR-1's business)
    for assoc in assocs:
        fwd = obs.forward(assoc, profile)
        j.see(fwd)
        for path in (fwd.value or []) if fwd.ok else []:
            ours[path_key(path, obs.interop_ns)] = path
    before = len(obs.target.calls)
    server = logged_wbem_server(obs.target)  # its operations, logged and guarded
    try:
        central = server.get_central_instances(profile.path)
    except (ServerError, WriteRefused):
        raise  # the transport failed: an error of the run, not a verdict on the target
    except Exception as exc:  # pywbem raises ValueError/ModelError/CIMError here
        if is_undetermined(exc) and not j.problems:
            return Verdict("not-applicable", capability_reason(*JUDGED_WITHOUT["CI-1"])
                           + f" (pywbem's get_central_instances({profile.label}): {exc})",
                           j.evidence + obs.target.calls[before:])
        j.fail(f"pywbem's get_central_instances({profile.label}) failed: "
               f"{type(exc).__name__}: {exc}")
        central = []
    j.see(*obs.target.calls[before:])
    theirs = {path_key(p): p for p in central}
    for key in sorted(ours.keys() - theirs.keys()):
        j.fail(f"get_central_instances misses {ours[key]}")
    for key in sorted(theirs.keys() - ours.keys()):
        j.fail(f"get_central_instances finds {theirs[key]}, which traversal over the "
               "profile's associations does not")
    j.examined("elements", len(ours.keys() | theirs.keys()))
    return j.verdict(f"get_central_instances finds the {len(ours)} element(s) traversal over "
                     "the profile's associations finds",
                     nothing="neither pywbem's get_central_instances nor traversal over the "
                     "profile's associations finds an element, so there is nothing to compare")


# -- registration details (RP-10, RP-11) -------------------------------------------------

NOT_ADVERTISED = 2


def _declared_property(obs, profile, name):
    """(the property as the profile's own class declares it in the interop
    namespace, with inherited qualifiers, or None; the GetClass outcome)."""
    out = obs.op("GetClass", profile.path.classname, namespace=obs.interop_ns,
                 LocalOnly=False, IncludeQualifiers=True)
    prop = out.value.properties.get(name) if out.ok else None
    return prop, out


def _qualifier(prop, name):
    qual = prop.qualifiers.get(name) if prop is not None else None
    return qual.value if qual is not None else None


def value_map(prop):
    """[(low, high, value name, entry text, is a range)] of a ValueMap: a
    single value has low == high; "a..b", "..b", "a.." and ".." are ranges
    (None: open)."""
    raw = _qualifier(prop, "ValueMap") or []
    names = _qualifier(prop, "Values") or []
    out = []
    for i, entry in enumerate(raw):
        name = names[i] if i < len(names) else ""
        text = str(entry).strip()
        try:
            if ".." in text:
                lo, _, hi = text.partition("..")
                out.append((int(lo) if lo.strip() else None, int(hi) if hi.strip() else None,
                            name, text, True))
            else:
                out.append((int(text), int(text), name, text, False))
        except ValueError:
            continue  # not an integer ValueMap entry: nothing to compare with
    return out


def _place(value, entries):
    """(entry text, value name, is a single value) of the ValueMap entry that
    holds ``value``, single values first; None when none does."""
    for lo, _, name, text, ranged in entries:
        if not ranged and lo == value:
            return text, name, True
    for lo, hi, name, text, ranged in entries:
        if ranged and (lo is None or value >= lo) and (hi is None or value <= hi):
            return text, name, False
    return None


def _reserved(name):
    """A ValueMap range that is not for implementations: DMTF's ".." ("DMTF
    Reserved"); vendor ranges ("Vendor Reserved", "Vendor Specific") are theirs."""
    lowered = (name or "").lower()
    return "vendor" not in lowered


@check("RP-10")
def advertise_types_rules(obs, profile):
    types = profile.instance.get("AdvertiseTypes")
    prop, decl = _declared_property(obs, profile, "AdvertiseTypes")
    cls = profile.path.classname
    j = Judge().see(_listing(obs), decl)
    if types is None:
        required = _qualifier(prop, "Required") is True
        text = str(_qualifier(prop, "Description") or "")
        if not required:
            return not_applicable(f"AdvertiseTypes is null, and {cls} does not declare it "
                                  "[Required] (older schemas: null means 2, Not Advertised)")
        if "null" in text.lower():
            return not_applicable(f"AdvertiseTypes is null; {cls} declares it [Required] but "
                                  "its description says null means 2 (Not Advertised)")
        if _qualifier(prop, "Description") is None:
            # a server that serves its classes without descriptions (OMI's
            # compiled classes) cannot tell which schema it follows: older
            # ones say null means Not Advertised -- nothing to fail on
            return not_applicable(f"AdvertiseTypes is null; {cls} declares it [Required] but "
                                  "the server's declaration carries no Description to say "
                                  "whether null means 2 (Not Advertised), as older schemas do")
        j.fail(f"{profile.path}: AdvertiseTypes is null, but {cls} declares it [Required] "
               "(to say the profile is not advertised, it is {2}, Not Advertised)", decl)
        return j.verdict("")
    types = [int(t) if t is not None else None for t in types]
    if NOT_ADVERTISED in types and len(types) > 1:
        j.fail(f"{profile.path}: AdvertiseTypes {types} holds 2 (Not Advertised) beside other "
               "entries; 2 must be the only entry")
    entries = value_map(prop)
    for i, t in enumerate(types):
        if entries and (t is None or _place(t, entries) is None):
            j.fail(f"{profile.path}: AdvertiseTypes[{i}] = {t} is not a value of its ValueMap "
                   f"{_qualifier(prop, 'ValueMap')}", decl)
    return j.verdict(f"AdvertiseTypes {types}: "
                     + ("Not Advertised, alone" if types == [NOT_ADVERTISED] else
                        "values of its ValueMap, without 2 (Not Advertised)"))


@check("RP-11")
def organization_in_value_map(obs, profile):
    org = profile.instance.get("RegisteredOrganization")
    if org is None:
        return not_applicable("RegisteredOrganization is null (RP-2 judges that)")
    prop, decl = _declared_property(obs, profile, "RegisteredOrganization")
    entries = value_map(prop)
    if not entries:
        return not_applicable(f"{profile.path.classname} declares no integer ValueMap for "
                              "RegisteredOrganization to compare with")
    j = Judge().see(_listing(obs), decl)
    place = _place(org, entries)
    if place is None:
        j.fail(f"{profile.path}: RegisteredOrganization {org} is not a value of its ValueMap "
               f"{_qualifier(prop, 'ValueMap')}: clients cannot name the organization "
               "(pywbem's get_selected_profiles maps it through the ValueMap)", decl)
    elif not place[2] and _reserved(place[1]):
        j.fail(f"{profile.path}: RegisteredOrganization {org} is in the ValueMap range "
               f"{place[0]!r} ({place[1] or 'no Values entry'}): a reserved range, not an "
               "organization; use 1 (Other) with OtherRegisteredOrganization", decl)
    shown = f"{int(org)} ({place[1] or 'no Values entry'})" if place else str(org)
    return j.verdict(f"RegisteredOrganization {shown} is a value of its ValueMap")
