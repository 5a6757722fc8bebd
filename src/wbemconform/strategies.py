"""Hypothesis strategies for valid interop topologies (importable by users).

``topologies()`` draws a :class:`~wbemconform.topology.Topology`: 1-3
registered profiles (organization Other with an OtherRegisteredOrganization,
or DMTF with an M.N.U version; the name/organization/version triples
unique), each in an implementation namespace (root/cimv2 or a generated
one), with an association class named by the convention, an element class
with 0-2 subclasses, and 0-4 elements spread over those classes. Render it
with :func:`wbemconform.topology.render_mof` and load it into the mock.
"""

from __future__ import annotations

from hypothesis import strategies as st

from .topology import ElementClass, ProfileSpec, Topology

__all__ = ["topologies", "namespace_names", "local_namespace_strings",
           "remote_namespace_strings", "ORGANIZATIONS"]

ORGANIZATIONS = ("Microsoft", "Contoso", "Fabrikam")
_WORDS = st.sampled_from(["Power", "Process", "Storage", "Fan", "Sensor", "Disk", "Net",
                          "Boot", "Memory", "Battery"])

namespace_names = st.lists(st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True),
                           min_size=1, max_size=2).map(lambda parts: "root/" + "/".join(parts))

local_namespace_strings = st.builds(
    lambda name, form: form(name), namespace_names, st.sampled_from([
        lambda n: n.replace("/", "\\"),
        lambda n: n,
        lambda n: "\\\\.\\" + n.replace("/", "\\"),
        lambda n: "//./" + n,
    ]))

_hosts = st.one_of(st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,10}", fullmatch=True),
                   st.ip_addresses(v=4).map(str), st.just("localhost"))

remote_namespace_strings = st.builds(
    lambda host, name, form: form(host, name), _hosts, namespace_names, st.sampled_from([
        lambda h, n: f"\\\\{h}\\" + n.replace("/", "\\"),
        lambda h, n: f"//{h}/{n}",
    ]))


@st.composite
def _profile(draw, index, namespace):
    product = draw(_WORDS) + str(index)
    dmtf = draw(st.booleans())
    if dmtf:
        org, other, org_word = 2, None, "DMTF"
        version = "{}.{}.{}".format(*draw(st.tuples(st.integers(1, 3), st.integers(0, 9),
                                                      st.integers(0, 9))))
    else:
        other = draw(st.sampled_from(ORGANIZATIONS))
        org, org_word = 1, other
        version = draw(st.sampled_from(["1.0", "1.1", "2.0", "1.0.0"]))
    base = ElementClass(f"{org_word}_{product}Element", "CIM_SoftwareIdentity", namespace)
    classes = [base]
    for i in range(draw(st.integers(0, 2))):
        parent = draw(st.sampled_from(classes))
        classes.append(ElementClass(f"{org_word}_{product}Element{i}Sub", parent.name,
                                    namespace))
    count = draw(st.integers(0, 4))
    elements = [(draw(st.sampled_from(classes)).name, f"{product}:{n}") for n in range(count)]
    spec = ProfileSpec(
        instance_id=f"{org_word}:{product}", name=f"{product} Profile", version=version,
        organization=org, other_organization=other,
        classname=f"{org_word}_{product}Profile",
        assoc_class=f"{org_word}_{product}_ElementConformsToProfile_v{draw(st.integers(1, 3))}",
        provider=f"{product}Association", impl_namespace=namespace,
        element_class=base.name, elements=elements)
    return spec, classes


@st.composite
def topologies(draw, max_profiles=3):
    """Valid topologies: every requirement must pass on them."""
    count = draw(st.integers(1, max_profiles))
    specs, classes = [], []
    for i in range(count):
        ns = draw(st.one_of(st.just("root/cimv2"), namespace_names))
        spec, cls = draw(_profile(i, ns))
        specs.append(spec)
        classes.extend(cls)
    return Topology(specs, classes)
