"""Property-based tests of the mock and the checks over generated topologies.

A failing example shrinks to a small MOF, printed (hypothesis ``note``) with
the command that reproduces it: save it as that.mof and run
``pytest suites --wbem-mock-mof that.mof``.
"""

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from pywbem import CIMInstance, CIMInstanceName

from wbemconform.catalog import catalog
from wbemconform.checks import run_check
from wbemconform.mock import MofLoadError, connect
from wbemconform.namespaces import parse_namespace
from wbemconform.observe import Observations
from wbemconform.runner import run_catalog
from wbemconform.strategies import (local_namespace_strings, remote_namespace_strings,
                                    topologies)
from wbemconform.options import TargetOptions
from wbemconform.targets.mock import mock_target
from wbemconform.topology import (ElementClass, ProfileSpec, Topology, mof_string,
                                  profile_instance_mof, render_mof)

SCHEMA_SUPERS = ["CIM_SoftwareIdentity", "CIM_LogicalElement", "CIM_ManagedSystemElement",
                 "CIM_ManagedElement"]
UNRELATED = ["CIM_Process", "CIM_RegisteredProfile", "CIM_Namespace"]


@pytest.fixture(scope="module", autouse=True)
def _mof_folders():
    """The generated MOF files of this module's examples go to one folder,
    removed when the module's tests end (the examples' targets are done by then)."""
    folder = tempfile.mkdtemp(prefix="wbemconform-prop-")
    _FOLDERS.append(folder)
    yield
    _FOLDERS.remove(folder)
    shutil.rmtree(folder, ignore_errors=True)


_FOLDERS = []


def load(topo, extra=""):
    """(target, observations) for a topology; the MOF is noted for shrinking."""
    mof = render_mof(topo) + extra
    note("MOF (save as that.mof; reproduce with: pytest suites --wbem-mock-mof that.mof):\n"
         + mof)
    folder = tempfile.mkdtemp(dir=_FOLDERS[-1])
    path = Path(folder) / "that.mof"
    path.write_text(mof, encoding="utf-8")
    target = mock_target(connect([path]), f"mock ({path})", allow_writes=True,
                         options=TargetOptions(mock_mof=[str(path)]))
    return target, Observations(target)


def failing(results):
    return {rid: [r.message for r in results.records[rid].values()
                  if r.verdict in ("fail", "error")]
            for rid in catalog() if results.overall(rid) in ("fail", "error")}


@given(topologies())
def test_every_valid_topology_passes_every_requirement(topo):
    target, _ = load(topo)
    results, _ = run_catalog(target=target)
    assert failing(results) == {}


def _profile_path(spec):
    return CIMInstanceName(spec.classname, {"InstanceID": spec.instance_id},
                           namespace="root/interop")


def _elem_key(path):
    return (path.classname.lower(), path["InstanceID"])


@given(topologies())
def test_traversal_is_bidirectional_and_matches_the_ground_truth(topo):
    target, obs = load(topo)
    conn = target.conn
    truth = topo.pairs()
    forward, reverse = set(), set()
    for spec in topo.profiles:
        for path in conn.AssociatorNames(_profile_path(spec)):
            assert path.namespace == spec.impl_namespace
            forward.add((spec.instance_id, _elem_key(path)))
        for cls, key in spec.elements:
            elem = CIMInstanceName(cls, {"InstanceID": key}, namespace=spec.impl_namespace)
            for prof in conn.AssociatorNames(elem):
                assert prof.namespace == "root/interop"
                reverse.add((prof["InstanceID"], (cls.lower(), key)))
    assert forward == truth
    assert reverse == truth


@given(topologies(), st.data())
def test_resultclass_equals_filtering_the_ground_truth(topo, data):
    target, _ = load(topo)
    conn = target.conn
    element_classes = [ec.name for ec in topo.element_classes]
    spec = data.draw(st.sampled_from(topo.profiles))
    for cls in element_classes + SCHEMA_SUPERS + UNRELATED:
        if cls in SCHEMA_SUPERS:
            want = {(c.lower(), k) for c, k in spec.elements}
        elif cls in UNRELATED:
            want = set()
        else:
            below = topo.subclasses(cls)
            want = {(c.lower(), k) for c, k in spec.elements if c.lower() in below}
        got = {_elem_key(p) for p in conn.AssociatorNames(_profile_path(spec), ResultClass=cls)}
        assert got == want, f"ResultClass={cls}"
    for c, k in spec.elements:
        elem = CIMInstanceName(c, {"InstanceID": k}, namespace=spec.impl_namespace)
        assert [p["InstanceID"] for p in conn.AssociatorNames(
            elem, ResultClass="CIM_RegisteredProfile")] == [spec.instance_id]
        assert conn.AssociatorNames(elem, ResultClass=c) == []


@given(topologies(), st.data())
def test_one_duplicate_triple_fails_rp3_and_nothing_else(topo, data):
    spec = data.draw(st.sampled_from(topo.profiles))
    dup = profile_instance_mof(spec, instance_id=spec.instance_id + ":copy")
    target, _ = load(topo, "\n".join(dup) + "\n")
    results, _ = run_catalog(target=target)
    assert set(failing(results)) == {"RP-3"}


def _class_with_target(text):
    return ("#pragma namespace(\"\\\\\\\\.\\\\root\\\\interop\")\n"
            "[Provider(\"P\"), Dynamic]\n"
            "class Acme_Probe_ElementConformsToProfile_v1 : CIM_ElementConformsToProfile\n"
            "{\n"
            f"    [MSFT_TargetNamespace({mof_string(text)})] CIM_ManagedElement ref "
            "ManagedElement = null;\n};\n")


@given(st.one_of(local_namespace_strings, remote_namespace_strings))
def test_local_target_namespaces_load_and_remote_ones_never_do(text):
    local = parse_namespace(text).is_local
    mof = _class_with_target(text)
    note(mof)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "probe.mof"
        path.write_text(mof, encoding="utf-8")
        try:
            connect([path])
            loaded = True
        except MofLoadError as exc:
            loaded = False
            assert f"{path}:5: " in str(exc) and "remote" in str(exc)
    assert loaded == local


class MockModel(RuleBasedStateMachine):
    """Profiles, elements and registrations change on one mock; after every
    step the checks agree with a model of what should pass."""

    BASE = Topology([ProfileSpec(
        instance_id="Model:Fan", name="Fan Profile", version="1.0", organization=1,
        other_organization="Microsoft", classname="Model_FanProfile",
        assoc_class="Microsoft_Fan_ElementConformsToProfile_v1", provider="FanAssociation",
        element_class="Model_Fan", elements=[("Model_Fan", "fan:0")])],
        [ElementClass("Model_Fan", "CIM_SoftwareIdentity", "root/cimv2")])

    @initialize()
    def start(self):
        self.target, _ = load(self.BASE)
        self.conn = self.target.conn
        self.elements = {"fan:0"}
        self.next = 1
        self.duplicate = None
        self.registered = True

    @rule()
    def add_element(self):
        key = f"fan:{self.next}"
        self.next += 1
        path = CIMInstanceName("Model_Fan", {"InstanceID": key}, namespace="root/cimv2")
        self.conn.CreateInstance(CIMInstance("Model_Fan", path=path,
                                             properties={"InstanceID": key}))
        self.elements.add(key)

    @rule(data=st.data())
    def remove_element(self, data):
        assume(self.elements)
        key = data.draw(st.sampled_from(sorted(self.elements)))
        self.conn.DeleteInstance(CIMInstanceName("Model_Fan", {"InstanceID": key},
                                                 namespace="root/cimv2"))
        self.elements.discard(key)

    @rule()
    def add_duplicate_profile(self):
        assume(self.duplicate is None)
        inst = CIMInstance("Model_FanProfile", properties={
            "InstanceID": "Model:Fan:again", "RegisteredName": "Fan Profile",
            "RegisteredOrganization": pywbem_uint16(1),
            "OtherRegisteredOrganization": "Microsoft", "RegisteredVersion": "1.0"})
        self.duplicate = self.conn.CreateInstance(inst, namespace="root/interop")

    @rule()
    def remove_duplicate_profile(self):
        assume(self.duplicate is not None)
        path = self.duplicate.copy()
        path.namespace = path.namespace or "root/interop"
        self.conn.DeleteInstance(path)
        self.duplicate = None

    @rule()
    def toggle_implementation_registration(self):
        regs = self.conn.EnumerateInstances("__InstanceProviderRegistration",
                                            namespace="root/cimv2")
        if self.registered:
            self.saved = regs
            for reg in regs:
                self.conn.DeleteInstance(reg.path)
        else:
            for reg in self.saved:
                self.conn.CreateInstance(reg, namespace="root/cimv2")
        self.registered = not self.registered

    @invariant()
    def checks_agree_with_the_model(self):
        if not hasattr(self, "conn"):
            return
        obs = Observations(self.target)
        verdict = {}
        for rid in ("RP-3", "PR-1", "PR-4", "TR-1"):
            req = catalog()[rid]
            subjects = obs.profiles if req.subject == "profile" else obs.associations
            verdict[rid] = {run_check(req, obs, s).status for s in subjects}
        assert ("fail" in verdict["RP-3"]) == (self.duplicate is not None), verdict
        assert ("fail" in verdict["PR-1"]) == (not self.registered), verdict
        assert ("fail" in verdict["PR-4"]) == (not self.registered), verdict
        assert verdict["TR-1"] <= {"pass", "not-applicable"}, verdict
        assoc = obs.associations[0]
        profile = next(p for p in obs.profiles if p.path["InstanceID"] == "Model:Fan")
        forward = obs.forward(assoc, profile)
        assert {p["InstanceID"] for p in forward.value} == self.elements


def pywbem_uint16(value):
    from pywbem import Uint16
    return Uint16(value)


TestMockModel = MockModel.TestCase
TestMockModel.settings = settings(max_examples=settings.default.max_examples,
                                  stateful_step_count=8, deadline=None,
                                  suppress_health_check=list(HealthCheck))
