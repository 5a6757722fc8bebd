"""The ``topology`` block of the results document: what the run observed of
the target's shape, for the picture (:mod:`wbemconform.topology_svg`).

    doc["topology"] = topology_block(session)

The block holds the registered profiles (the labels the records use), the
CIM_ReferencedProfile graph between them, and each association class: the
namespaces it is served in, the profiles its links start from and the
element classes they reach, counted per namespace. It is computed from what
discovery and the checks already fetched -- building it never sends an
operation (a graph nobody fetched is said to be unknown) -- and every text
in it is scrubbed like the rest of the document. It holds counts, not
elements: 10,000 elements of one class are one entry.

Not to be confused with :mod:`wbemconform.topology`, which generates MOF
for benchmark topologies.
"""

from __future__ import annotations

from collections import Counter

from .paths import path_key
from .observe.associations import FROM_ELEMENT

__all__ = ["topology_block", "TOPOLOGY_VERSION"]

TOPOLOGY_VERSION = 1


def _profile_text(path, scrub):
    keys = path.keybindings if path is not None else {}
    return scrub(str(keys.get("InstanceID") or path))


def _organization(obs, profile):
    """The organization as discovery named it (no operation is sent for it)."""
    if profile.organization_name:
        return str(profile.organization_name)
    if profile.organization[0] == "other":
        return profile.organization[1]
    if "organization_names" in obs.__dict__:  # fetched already: no operation
        return str(obs.organization_name(profile) or "")
    return ""


def topology_block(session):
    """The ``topology`` block of ``session``'s document, or None before
    discovery (or when the target could not be used)."""
    obs = session.discovered
    if obs is None:
        return None
    scrub = session.scrub
    profiles = []
    index = {}  # profile path key -> position in profiles
    for label, profile in session.subjects("profile"):
        index[profile.key] = len(profiles)
        profiles.append({"label": label, "name": scrub(str(profile.name or "")),
                         "version": scrub(str(profile.version or "")),
                         "organization": scrub(_organization(obs, profile))})

    def profile_at(path):
        """The index of the profile a path names; unknown ones are added (marked)."""
        key = path_key(path)
        if key not in index:
            index[key] = len(profiles)
            profiles.append({"label": _profile_text(path, scrub), "name": "", "version": "",
                             "organization": "", "registered": False})
        return index[key]

    references = None  # unknown: the run did not fetch the graph
    if "reference_links" in obs.__dict__:
        references = []
        for link in obs.reference_links:
            references.append({
                "antecedent": profile_at(link.antecedent) if link.antecedent is not None
                else None,
                "dependent": profile_at(link.dependent) if link.dependent is not None
                else None,
                "class": scrub(link.classname), "subprofile": bool(link.subprofile)})

    associations = []
    for label, assoc in session.subjects("association"):
        by_profile = Counter()
        elements = Counter()
        element_side = 0
        for link in assoc.links.values():
            by_profile[profile_at(link.profile)] += 1
            elements[(scrub(str(link.element.namespace or obs.interop_ns)),
                      scrub(link.element.classname))] += 1
            element_side += link.source == FROM_ELEMENT
        associations.append({
            "label": label, "class": scrub(assoc.classname),
            "namespaces": [scrub(ns) for ns in assoc.sides],
            "element_namespaces": [scrub(ns) for ns in assoc.element_ns],
            "links": len(assoc.links), "element_side_links": element_side,
            "profiles": [{"profile": p, "links": n} for p, n in sorted(by_profile.items())],
            "elements": [{"namespace": ns, "class": cls, "count": n}
                         for (ns, cls), n in sorted(elements.items())],
        })
    return {"version": TOPOLOGY_VERSION, "interop_namespace": scrub(obs.interop_ns),
            "profiles": profiles, "references": references, "associations": associations}
