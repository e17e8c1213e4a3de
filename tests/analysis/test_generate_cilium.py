"""generate --kind cilium: CiliumNetworkPolicies from flows, proved exact by the engine
under the cilium profile, and equal in effect to the NetworkPolicies for the same flows."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.analysis.generate_support import (
    SERVICE_CLUSTER,
    SHOP_FLOWS,
    THREE_TIER,
    connectivity,
    load,
)

from netpol.analysis.flows import flows_from_matrix, parse_flows, read_flows
from netpol.analysis.generate import (
    CILIUM,
    NETWORK_POLICY,
    FlowResolveError,
    GenerateError,
    GenerateSettings,
    generate,
)
from netpol.analysis.generate_cilium import NAMESPACE_KEY, peer_selector
from netpol.engine.compile import compile_cluster
from netpol.engine.matrix import class_matrix
from netpol.engine.views import MatrixView
from netpol.load.yamldoc import parse_text
from netpol.model.cilium import CNP_KIND, CiliumPolicy, CiliumRule
from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, Options
from netpol.model.policy import Peer
from netpol.model.selectors import LabelSelector, Requirement
from netpol.render.matrix import matrix_json
from netpol.validate.pipeline import check_and_build, load_cluster

CILIUM_OPTIONS = Options(profile=PROFILES["cilium"])
THREE_TIER_FLOWS = (THREE_TIER / "flows.yaml").read_text()

# The shop's flows, plus every pod labelled role=metrics anywhere -> web, and web out.
SHOP_FLOWS_MORE = (
    SHOP_FLOWS
    + """\
  - from: {labels: {role: metrics}}
    to: {workload: web}
    ports: [9000-9100/TCP]
  - from: {workload: web}
    to: {cidr: 192.0.2.0/24}
    ports: [UDP]
"""
)


def run(flows_text: str, cluster: Cluster, options: Options = CILIUM_OPTIONS, **settings: object):
    flows = parse_flows(flows_text, "flows.yaml", "default")
    return generate(cluster, flows, options, GenerateSettings(kind=CILIUM, **settings))  # type: ignore[arg-type]


def rule_of(result, name: str) -> CiliumRule:
    policy = next(p for p in result.policies if p.name == name)
    assert isinstance(policy, CiliumPolicy) and policy.kind == CNP_KIND
    (rule,) = policy.rules
    return rule


def reload(text: str) -> tuple[CiliumPolicy, ...]:
    docs, problems = parse_text(text, "<generated>")  # the name generate loads it by
    loaded = check_and_build(docs, problems, CILIUM_OPTIONS)
    assert problems == [] and loaded.ok, [d.one_line() for d in loaded.diagnostics]
    assert loaded.cluster.policies == ()
    return loaded.cluster.cilium_policies


@pytest.mark.parametrize("default_deny", [False, True])
def test_three_tier_flows_give_the_connectivity_of_the_networkpolicies(default_deny: bool) -> None:
    """Both kinds are proved equal to the same flows; so, the engine says, to each other."""
    cluster = load(THREE_TIER, CILIUM_OPTIONS)
    flows = read_flows(str(THREE_TIER / "flows.yaml"))
    cnps = generate(
        cluster, flows, CILIUM_OPTIONS, GenerateSettings(kind=CILIUM, default_deny=default_deny)
    )
    nps = generate(cluster, flows, CILIUM_OPTIONS, GenerateSettings(default_deny=default_deny))
    assert cnps.cluster.policies == () and len(cnps.cluster.cilium_policies) == 3 + default_deny
    assert connectivity(cnps.cluster, CILIUM_OPTIONS) == connectivity(nps.cluster, CILIUM_OPTIONS)


def test_the_check_runs_under_the_cilium_profile_whatever_the_options_say() -> None:
    result = run(THREE_TIER_FLOWS, load(THREE_TIER), Options())
    assert {p.kind for p in result.policies} == {CNP_KIND}
    assert connectivity(result.cluster, CILIUM_OPTIONS) == connectivity(
        run(THREE_TIER_FLOWS, load(THREE_TIER)).cluster, CILIUM_OPTIONS
    )


def test_the_written_yaml_loads_back_to_the_policies_that_were_proved() -> None:
    result = run(THREE_TIER_FLOWS, load(THREE_TIER))
    assert reload(result.yaml) == result.policies
    frontend = rule_of(result, "frontend-deploy-policy")
    assert frontend.endpoint_selector == LabelSelector((("role", "frontend"),))
    (outside,) = frontend.entries_of("Ingress")
    assert outside.cidrs is not None and [c.text() for c in outside.cidrs] == [
        "0.0.0.0/0 except 10.244.0.0/16"
    ]
    assert [p.text() for p in outside.ports] == ["80/TCP"]
    api, dns = frontend.entries_of("Egress")
    assert api.endpoints == (LabelSelector((("role", "backend"),)),)
    assert [p.text() for p in api.ports] == ["5678/TCP"] and api.l7 == ()
    assert dns.endpoints == (
        LabelSelector.of({NAMESPACE_KEY: "kube-system", "k8s-app": "kube-dns"}),
    )
    assert [p.text() for p in dns.ports] == ["53/UDP", "53/TCP"] and dns.l7 == ("dns",)


def test_a_direction_without_flows_is_closed_with_an_entry_from_nobody() -> None:
    result = run(THREE_TIER_FLOWS, load(THREE_TIER), default_deny=True)
    db = rule_of(result, "db-sts-policy")
    # Cilium enforces a direction only where the rule has an entry (§7.2): the flag alone
    # would leave egress open, so one entry to nobody closes it
    (nobody,) = db.entries_of("Egress")
    assert (nobody.section, nobody.entities, nobody.ports) == ("egress", ("none",), ())
    assert db.default_deny_egress is True
    assert db.default_deny_ingress is None and db.default_deny("Ingress")  # it has rules
    # the namespace's default deny allows nothing: both flags, and one entry each way
    deny = rule_of(result, "default-deny")
    assert deny.endpoint_selector == LabelSelector()
    assert (deny.default_deny_ingress, deny.default_deny_egress) == (True, True)
    assert [(e.section, e.entities, e.ports) for e in deny.entries] == [
        ("ingress", ("none",), ()),
        ("egress", ("none",), ()),
    ]
    assert "Cilium enforces a direction only with an entry" in result.yaml


def test_peers_in_other_namespaces_name_the_namespace_label(yaml_cluster) -> None:
    result = run(SHOP_FLOWS_MORE, yaml_cluster(SERVICE_CLUSTER), dns="none")
    web = rule_of(result, "web-policy")
    client, scraper, anywhere = web.entries_of("Ingress")
    assert client.endpoints == (LabelSelector((("app", "client"),)),)  # same namespace
    assert [p.text() for p in client.ports] == ["https/TCP"]
    assert scraper.endpoints == (
        LabelSelector.of({NAMESPACE_KEY: "monitoring", "role": "metrics"}),
    )
    assert anywhere.endpoints == (
        LabelSelector((("role", "metrics"),), (Requirement(NAMESPACE_KEY, "Exists"),)),
    )
    assert [p.text() for p in anywhere.ports] == ["9000-9100/TCP"]
    (out,) = web.entries_of("Egress")
    assert out.cidrs is not None and [c.text() for c in out.cidrs] == ["192.0.2.0/24"]
    assert [p.text() for p in out.ports] == ["every port/UDP"]
    assert "toCIDR:\n" in result.yaml  # no exception: the plain form


def test_peer_selector_refuses_a_namespace_form_the_planner_never_writes() -> None:
    peer = Peer(LabelSelector(), LabelSelector((("team", "a"),)))
    with pytest.raises(ValueError, match="no CiliumNetworkPolicy peer for namespaceSelector"):
        peer_selector(peer)


HOST_NETWORK_AGENT = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: shop}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      containers: [{name: a, image: agent}]
"""


def test_a_host_network_workload_cannot_be_expressed(yaml_cluster) -> None:
    cluster = yaml_cluster(SERVICE_CLUSTER + "---\n" + HOST_NETWORK_AGENT)
    flows = SHOP_FLOWS_MORE.replace("from: {workload: client}", "from: {workload: agent}")
    with pytest.raises(GenerateError) as caught:
        run(flows, cluster, dns="none")
    assert str(caught.value) == (
        "shop/agent runs with hostNetwork: a CiliumNetworkPolicy cannot select or isolate it "
        "(it has its node's identity, host or remote-node: docs/cilium.md)"
    )


# A clusterwide deny of the input: backend may not reach the database, whatever allows it.
DENY_DATABASE = """
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: no-database}
spec:
  endpointSelector: {matchLabels: {role: db}}
  enableDefaultDeny: {ingress: false}
  ingressDeny:
    - fromEndpoints: [{matchLabels: {role: backend}}]
"""


@pytest.mark.parametrize("kind", [CILIUM, NETWORK_POLICY])
def test_an_input_clusterwide_deny_makes_the_flows_inexpressible(tmp_path: Path, kind: str) -> None:
    """Whatever the kind written: with Cilium policies in the input, the check (like the
    engine) reads everything as Cilium does, even when the options say upstream."""
    (tmp_path / "deny.yaml").write_text(DENY_DATABASE)
    loaded = load_cluster([str(THREE_TIER), str(tmp_path)], Options())
    assert loaded.ok, [d.one_line() for d in loaded.errors]
    flows = parse_flows(THREE_TIER_FLOWS, "flows.yaml")
    with pytest.raises(GenerateError) as caught:
        generate(loaded.cluster, flows, Options(), GenerateSettings(kind=kind))
    message = str(caught.value)
    assert message.startswith(
        "the generated policies would not give exactly the flows under the input's "
        "1 Cilium policy (a Cilium deny beats every allow, and their allows add to the "
        "generated ones; see docs/cilium.md) (nothing written):\n  "
    )
    assert (
        "app1-ns/backend-deploy -> app1-ns/db-sts: the flows allow TCP 3306, "
        "the generated policies No Connections"
    ) in message


# Ends and ports the random flows are made of, over the shop (two namespaces, a Service,
# named ports) and the cluster DNS netpol models for it.
ENDS = (
    "{workload: client}",
    "{workload: web}",
    "{workload: monitoring/scraper}",
    "{namespace: monitoring}",
    "{labels: {role: metrics}}",
    "{namespace: shop, labels: {app: client}}",
    "{external: true}",
    "{cidr: 192.0.2.0/24}",
)
PORTS = ("", "[8443/TCP]", "[53/UDP, 80]", "[9000-9100/TCP]", "[UDP]", "[SCTP]")


@st.composite
def shop_flows(draw: st.DrawFn) -> str:
    items = []
    for _ in range(draw(st.integers(1, 4))):
        src, dst = draw(st.sampled_from(ENDS)), draw(st.sampled_from(ENDS))
        ports = draw(st.sampled_from(PORTS))
        if draw(st.booleans()):  # the Service end takes only its own port
            src, dst, ports = draw(st.sampled_from(ENDS)), "{service: web-svc}", "[443/TCP]"
        items.append(f"  - {{from: {src}, to: {dst}" + (f", ports: {ports}}}" if ports else "}"))
    return "apiVersion: netpol/v1alpha1\nkind: Flows\nnamespace: shop\nflows:\n" + "\n".join(items)


@pytest.fixture(scope="module")
def shop() -> Cluster:
    docs, problems = parse_text(SERVICE_CLUSTER, "shop.yaml")
    loaded = check_and_build(docs, problems, CILIUM_OPTIONS)  # with the modelled CoreDNS
    assert loaded.ok, [d.one_line() for d in loaded.diagnostics]
    return loaded.cluster


@settings(max_examples=25, deadline=None, derandomize=True)
@given(flows=shop_flows(), default_deny=st.booleans(), dns=st.sampled_from(["auto", "none"]))
def test_random_flows_give_the_same_connectivity_as_networkpolicies(
    shop: Cluster, flows: str, default_deny: bool, dns: str
) -> None:
    """Whatever the flows, the CNPs are proved exact exactly when the NetworkPolicies
    are, and then the engine finds the two sets equal pair by pair."""
    outcomes = []
    for kind in (NETWORK_POLICY, CILIUM):
        settings_ = GenerateSettings(kind=kind, default_deny=default_deny, dns=dns)
        try:
            result = generate(shop, parse_flows(flows, "flows.yaml"), CILIUM_OPTIONS, settings_)
        except (GenerateError, FlowResolveError) as exc:
            outcomes.append(type(exc).__name__)
            continue
        outcomes.append(str(sorted(connectivity(result.cluster, CILIUM_OPTIONS).items())))
    assert outcomes[0] == outcomes[1]


def two_deployments(web: str, client: str) -> str:
    """web and client in namespace lab, with the given pod template labels."""
    return "\n---\n".join(
        f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: lab}}
spec:
  selector: {{matchLabels: {labels}}}
  template:
    metadata: {{labels: {labels}}}
    spec: {{containers: [{{name: c, image: busybox}}]}}"""
        for name, labels in (("web", web), ("client", client))
    )


LAB_FLOW = "apiVersion: netpol/v1alpha1\nkind: Flows\nnamespace: lab\nflows:\n  - {from: {workload: client}, to: {workload: web}, ports: [80]}\n"


def test_selectors_use_only_labels_cilium_keeps_in_identities(yaml_cluster) -> None:
    """k8s.io/... never reaches an identity: the first key in order would single web out
    for a NetworkPolicy upstream, but under Cilium the selector must use `team`."""
    cluster = yaml_cluster(
        two_deployments("{k8s.io/part: a, team: web}", "{k8s.io/part: b, team: client}")
    )
    upstream = generate(cluster, parse_flows(LAB_FLOW), Options(), GenerateSettings(dns="none"))
    assert {p.name: p.pod_selector.text() for p in upstream.policies} == {  # type: ignore[union-attr]
        "client-policy": "k8s.io/part=b",
        "web-policy": "k8s.io/part=a",
    }
    cilium = run(LAB_FLOW, cluster, dns="none")
    assert rule_of(cilium, "web-policy").endpoint_selector == LabelSelector.of({"team": "web"})


def test_labels_cilium_drops_cannot_single_a_workload_out(yaml_cluster) -> None:
    cluster = yaml_cluster(
        two_deployments("{app: shop, k8s.io/part: web}", "{app: shop, k8s.io/part: client}")
    )
    with pytest.raises(GenerateError) as caught:
        run(LAB_FLOW, cluster, dns="none")
    assert str(caught.value) == (
        "no label selector singles out lab/client: another workload or pod in lab carries "
        "the same pod labels (app=shop) (Cilium leaves k8s.io/part out of identities); give "
        "its pod template a distinguishing label"
    )


# A clusterwide policy of the input that selects no pod: it changes no verdict, but its
# presence makes the engine read the whole input as Cilium does.
IDLE_CCNP = """
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: idle}
spec:
  endpointSelector: {matchLabels: {app: nothing-has-this}}
  ingress: [{fromEntities: [world]}]
"""


def test_networkpolicies_next_to_cilium_policies_are_planned_as_cilium_reads_them(
    tmp_path: Path,
) -> None:
    """An ipBlock over the pod range admits pods upstream but not under Cilium: planned
    with the options' upstream profile, the check would expect the pods in."""
    (tmp_path / "idle.yaml").write_text(IDLE_CCNP)
    loaded = load_cluster([str(THREE_TIER), str(tmp_path)], Options())
    assert loaded.ok, [d.one_line() for d in loaded.errors]
    flows = THREE_TIER_FLOWS.replace("{external: true}", "{cidr: 10.0.0.0/8}")
    result = generate(
        loaded.cluster, parse_flows(flows, "flows.yaml"), Options(), GenerateSettings()
    )
    assert [p.name for p in result.cluster.cilium_policies] == ["idle"]
    frontend = [p for p in result.cluster.pods if p.name.startswith("frontend")]
    backend = next(p for p in result.cluster.pods if p.name.startswith("backend"))
    matrix = connectivity(result.cluster, CILIUM_OPTIONS)
    assert matrix[(backend.id, frontend[0].id)] == "No Connections"


def test_from_matrix_moves_todays_networkpolicies_to_cnps_with_the_same_connectivity() -> None:
    """The tutorial's NetworkPolicies 04-06 as Cilium enforces them, frozen into a matrix
    and generated back as CNPs: the NetworkPolicies go, the connectivity stays."""
    today = load(THREE_TIER, CILIUM_OPTIONS, without_policies=False)
    assert len(today.policies) == 3
    compiled = compile_cluster(today, CILIUM_OPTIONS)
    view = MatrixView(class_matrix(compiled, include_external=True), "workload")
    flows = flows_from_matrix(matrix_json(view, "cilium", None, False), "today.json")
    result = generate(today, flows, CILIUM_OPTIONS, GenerateSettings(kind=CILIUM, dns="none"))
    assert result.cluster.policies == () and result.cluster.cilium_policies == result.policies
    assert connectivity(result.cluster, CILIUM_OPTIONS) == connectivity(today, CILIUM_OPTIONS)
