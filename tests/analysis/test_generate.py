"""generate: policies from flows, proved equal to the flows (plus DNS) by the engine."""

from __future__ import annotations

import ipaddress
import json

import pytest
import yaml
from tests.analysis.generate_support import (
    EXAMPLES,
    SERVICE_CLUSTER,
    SHOP_FLOWS,
    THREE_TIER,
    connectivity,
    load,
)

from netpol.analysis.flows import FlowsError, flows_from_matrix, parse_flows, read_flows
from netpol.analysis.generate import (
    FlowResolveError,
    GenerateError,
    GenerateSettings,
    differences,
    generate,
)
from netpol.engine.compile import compile_cluster
from netpol.engine.matrix import class_matrix
from netpol.engine.views import MatrixView
from netpol.load.paths import read_paths
from netpol.load.yamldoc import parse_text
from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, Options
from netpol.render.matrix import matrix_json
from netpol.validate.pipeline import check_and_build

TUTORIAL_POLICIES = (
    "04-db-netpol.yaml",
    "05-revised-backend-netpol.yaml",
    "06-frontend-netpol.yaml",
)

# The tutorial's flows, as its policies 04, 05 and 06 write them (ipBlock 0.0.0.0/0 as is).
TUTORIAL_FLOWS = """
apiVersion: netpol/v1alpha1
kind: Flows
namespace: app1-ns
flows:
  - from: {cidr: 0.0.0.0/0}
    to: {workload: frontend-deploy}
    ports: [80/TCP]
  - from: {workload: frontend-deploy}
    to: {workload: backend-deploy}
    ports: [5678/TCP]
  - from: {workload: backend-deploy}
    to: {workload: db-sts}
    ports: [3306/TCP]
"""


def tutorial_policies(options: Options) -> Cluster:
    """The three-tier workloads under the tutorial's policies 04, 05 and 06 only."""
    return load(THREE_TIER, options, without_policies=False)


def run(flows_text: str, cluster: Cluster, options: Options | None = None, **settings: object):
    options = options or Options()
    flows = parse_flows(flows_text, "flows.yaml", "default")
    return generate(cluster, flows, options, GenerateSettings(**settings))  # type: ignore[arg-type]


@pytest.mark.parametrize("profile", ["upstream", "calico", "cilium"])
def test_tutorial_flows_give_the_connectivity_of_policies_04_05_06(profile: str) -> None:
    options = Options(profile=PROFILES[profile])
    result = run(TUTORIAL_FLOWS, load(THREE_TIER, options), options)
    expected = connectivity(tutorial_policies(options), options)
    assert connectivity(result.cluster, options) == expected


def test_example_flows_file_generates_one_policy_per_tier_with_dns() -> None:
    options = Options()
    flows = read_flows(str(THREE_TIER / "flows.yaml"))
    result = generate(load(THREE_TIER), flows, options, GenerateSettings())
    assert sorted(p.name for p in result.policies) == [
        "backend-deploy-policy",
        "db-sts-policy",
        "frontend-deploy-policy",
    ]
    for policy in result.policies:
        assert policy.policy_types == ("Ingress", "Egress")
        assert not policy.policy_types_defaulted
    by_name = {p.name: p for p in result.policies}
    assert by_name["db-sts-policy"].egress == ()  # no egress flow: no DNS either
    dns_rule = by_name["frontend-deploy-policy"].egress[-1]
    (peer,) = dns_rule.peers
    assert peer.namespace_selector is not None and peer.pod_selector is not None  # AND form
    assert {(p.protocol, p.port) for p in dns_rule.ports} == {("UDP", "dns"), ("TCP", "dns-tcp")}
    assert "# flow 2 (api): app1-ns/frontend-deploy -> service app1-ns/backend-svc 5678/TCP" in (
        result.yaml
    )


def test_external_excludes_pods_so_it_differs_from_06_only_for_open_pods() -> None:
    """`external` means outside the pod range: unlike 06's 0.0.0.0/0, pods cannot use it."""
    options = Options()
    flows = read_flows(str(THREE_TIER / "flows.yaml"))
    result = generate(load(THREE_TIER), flows, options, GenerateSettings())
    ours = connectivity(result.cluster, options)
    theirs = connectivity(tutorial_policies(options), options)
    changed = {k for k in ours if ours[k] != theirs[k]}
    frontend = ours_ids(result.cluster, "app1-ns/frontend-deploy")
    coredns = ours_ids(result.cluster, "kube-system/coredns")
    # CoreDNS is not egress-restricted, and an address in the pod range is not "external".
    assert changed == {(src, dst) for src in [*coredns, "10.244.255.254"] for dst in frontend}
    assert all(theirs[k] == "TCP 80" and ours[k] == "No Connections" for k in changed)


def ours_ids(cluster: Cluster, workload: str) -> list[str]:
    return [p.id for p in cluster.pods if p.workload and p.workload.id == workload]


def test_generated_yaml_is_valid_and_loads_back_to_the_same_policies() -> None:
    result = run(TUTORIAL_FLOWS, load(THREE_TIER))
    docs = list(yaml.safe_load_all(result.yaml))
    assert [d["kind"] for d in docs] == ["NetworkPolicy"] * 3
    parsed, problems = read_paths([])  # empty: exercise the same path the CLI uses below
    assert parsed == [] and problems == []
    from netpol.load.yamldoc import parse_text

    docs2, problems2 = parse_text(result.yaml, "gen.yaml")
    loaded = check_and_build(docs2, problems2, Options())
    assert loaded.ok
    assert [p.id for p in loaded.cluster.policies] == [p.id for p in result.policies]


def test_selectors_are_the_smallest_label_set_that_singles_out_the_workload() -> None:
    result = run(TUTORIAL_FLOWS, load(THREE_TIER))
    selectors = {p.name: p.pod_selector.text() for p in result.policies}
    assert selectors == {
        "backend-deploy-policy": "role=backend",
        "db-sts-policy": "role=db",
        "frontend-deploy-policy": "role=frontend",
    }


def test_numeric_ports_and_dns_modes() -> None:
    cluster = load(THREE_TIER)
    numeric = run(TUTORIAL_FLOWS, cluster, numeric_ports=True)
    frontend = next(p for p in numeric.policies if p.name == "frontend-deploy-policy")
    assert {(p.protocol, p.port) for p in frontend.egress[-1].ports} == {("UDP", 53), ("TCP", 53)}
    none = run(TUTORIAL_FLOWS, cluster, dns="none")
    frontend = next(p for p in none.policies if p.name == "frontend-deploy-policy")
    assert len(frontend.egress) == 1
    cluster_mode = run(TUTORIAL_FLOWS, cluster, dns="cluster")
    frontend = next(p for p in cluster_mode.policies if p.name == "frontend-deploy-policy")
    assert frontend.egress[-1].peers[0].pod_selector.text() == "k8s-app=kube-dns"  # type: ignore[union-attr]
    assert {(p.protocol, p.port) for p in frontend.egress[-1].ports} == {("UDP", 53), ("TCP", 53)}


def test_default_deny_adds_one_policy_per_namespace_and_still_checks_exact() -> None:
    result = run(TUTORIAL_FLOWS, load(THREE_TIER), default_deny=True)
    deny = [p for p in result.policies if p.name == "default-deny"]
    assert [p.namespace for p in deny] == ["app1-ns"]
    assert deny[0].pod_selector.is_empty and deny[0].ingress == () and deny[0].egress == ()


def test_service_ports_become_named_target_ports_and_selectors_cross_namespaces(
    yaml_cluster,
) -> None:
    cluster = yaml_cluster(SERVICE_CLUSTER)
    result = run(SHOP_FLOWS, cluster, dns="none")
    web = next(p for p in result.policies if p.name == "web-policy")
    assert [(p.protocol, p.port) for r in web.ingress for p in r.ports] == [
        ("TCP", "https"),
        ("TCP", "https"),
    ]
    peer = web.ingress[1].peers[0]
    assert peer.namespace_selector.text() == "kubernetes.io/metadata.name=monitoring"  # type: ignore[union-attr]
    assert peer.pod_selector.text() == "role=metrics"  # type: ignore[union-attr]
    # The scraper is a peer only: no policy restricts it.
    assert {p.name for p in result.policies} == {"web-policy", "client-policy"}


CLIENT_TO_WEB = """
apiVersion: netpol/v1alpha1
kind: Flows
namespace: shop
flows:
  - from: {workload: client}
    to: {workload: web}
    ports: [8443/TCP]
"""


def test_identical_labels_cannot_be_singled_out_and_nothing_is_written(yaml_cluster) -> None:
    twin = SERVICE_CLUSTER.replace("name: client, namespace: shop", "name: twin, namespace: shop")
    cluster = yaml_cluster(SERVICE_CLUSTER + "---\n" + twin.split("---")[1])
    flows = CLIENT_TO_WEB
    with pytest.raises(GenerateError, match=r"no label selector singles out shop/client"):
        run(flows, cluster)


def test_a_label_subset_is_excluded_with_does_not_exist(yaml_cluster) -> None:
    cluster = yaml_cluster(
        SERVICE_CLUSTER
        + """---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-canary, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front, track: canary}}
    spec:
      containers: [{name: web, image: nginx}]
"""
    )
    flows = CLIENT_TO_WEB
    result = run(flows, cluster, dns="none")
    web = next(p for p in result.policies if p.name == "web-policy")
    assert web.pod_selector.text() == "app=web,tier=front,!track"


def test_unknown_workload_is_bad_input() -> None:
    flows = TUTORIAL_FLOWS.replace("workload: db-sts}", "workload: db-sst}")
    with pytest.raises(FlowResolveError) as error:
        run(flows, load(THREE_TIER))
    assert str(error.value) == "no workload app1-ns/db-sst in the input (did you mean db-sts?)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "apiVersion: netpol/v1alpha1\nkind: Flows\nflows: []\n",
            "flows: must be a non-empty list",
        ),
        (
            "apiVersion: v1\nkind: Flows\nflows: [{from: a, to: b}]\n",
            "apiVersion must be netpol/v1alpha1",
        ),
        (
            "apiVersion: netpol/v1alpha1\nkind: Flows\nflows:\n  - from: {pod: a}\n    to: b\n",
            "flows.yaml:4: flows[0].from: unknown key 'pod'",
        ),
        (
            "apiVersion: netpol/v1alpha1\nkind: Flows\nflows:\n  - from: a\n    to: b\n    ports: [80/ICMP]\n",
            "flows.yaml:6: flows[0].ports[0]: '80/ICMP': protocol must be one of TCP, UDP, SCTP",
        ),
        (
            "apiVersion: netpol/v1alpha1\nkind: Flows\nflows:\n  - from: a\n",
            "flows.yaml:4: flows[0]: to is required",
        ),
    ],
)
def test_bad_flows_files_say_where_and_what(text: str, message: str) -> None:
    with pytest.raises(FlowsError) as caught:
        parse_flows(text, "flows.yaml")
    assert message in str(caught.value)


FLOWS_HEAD = "apiVersion: netpol/v1alpha1\nkind: Flows\n"


def one_flow(item: str) -> str:
    return f"{FLOWS_HEAD}flows:\n  - {item}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            f"{FLOWS_HEAD}flows: [web]\n",
            "flows.yaml:3: flows[0]: must be a mapping with from, to and ports",
            id="flow-not-a-mapping",
        ),
        pytest.param(
            f"{FLOWS_HEAD}colour: red\nflows: [{{from: a, to: b}}]\n",
            "flows.yaml:3: unknown key 'colour' (known: apiVersion, flows, kind, metadata, "
            "namespace)",
            id="unknown-top-level-key",
        ),
        pytest.param(
            f"{FLOWS_HEAD}namespace: 3\nflows: [{{from: a, to: b}}]\n",
            "flows.yaml:3: namespace: must be a namespace name",
            id="namespace-not-a-name",
        ),
        pytest.param(
            f"{FLOWS_HEAD}flows: [{{from: a, to: b}}]\n---\n{FLOWS_HEAD}flows: [{{from: a, to: b}}]\n",
            "flows.yaml: expected one document of kind Flows, found 2",
            id="two-documents",
        ),
        pytest.param(
            one_flow("{from: a, to: b, port: [80]}"),
            "flows.yaml:4: flows[0]: unknown key 'port' (known: from, name, ports, to)",
            id="unknown-flow-key",
        ),
        pytest.param(
            one_flow("{name: [x], from: a, to: b}"),
            "flows.yaml:4: flows[0].name: must be a string",
            id="name-not-a-string",
        ),
        pytest.param(
            one_flow("{from: {}, to: b}"),
            "flows.yaml:4: flows[0].from: expected one of workload, service, namespace, labels, "
            "external, cidr, cidrs",
            id="empty-end",
        ),
        pytest.param(
            one_flow("{from: {external: true, namespace: x}, to: b}"),
            "flows.yaml:4: flows[0].from: write external: true, alone",
            id="external-with-another-key",
        ),
        pytest.param(
            one_flow("{from: {external: false}, to: b}"),
            "flows.yaml:4: flows[0].from: write external: true, alone",
            id="external-false",
        ),
        pytest.param(
            one_flow("{from: {cidr: 10.0.0.0/8, namespace: x}, to: b}"),
            "flows.yaml:4: flows[0].from: cidr cannot be combined with other keys",
            id="cidr-with-another-key",
        ),
        pytest.param(
            one_flow("{from: {cidrs: []}, to: b}"),
            "flows.yaml:4: flows[0].from: cidrs must be a non-empty list",
            id="cidrs-empty",
        ),
        pytest.param(
            one_flow("{from: {cidr: 10.0.0.0/33}, to: b}"),
            "flows.yaml:4: flows[0].from: '10.0.0.0/33' is not a CIDR (e.g. 203.0.113.0/24)",
            id="not-a-cidr",
        ),
        pytest.param(
            one_flow("{from: a, to: {workload: b, service: c}}"),
            "flows.yaml:4: flows[0].to: workload takes only namespace besides it",
            id="workload-and-service",
        ),
        pytest.param(
            one_flow("{from: a, to: {service: c, kind: Deployment}}"),
            "flows.yaml:4: flows[0].to: service takes only namespace besides it",
            id="service-with-kind",
        ),
        pytest.param(
            one_flow("{from: {workload: a/b/c}, to: b}"),
            "flows.yaml:4: flows[0].from.workload: must be NAME or NAMESPACE/NAME",
            id="workload-two-slashes",
        ),
        pytest.param(
            one_flow("{from: {workload: ' '}, to: b}"),
            "flows.yaml:4: flows[0].from.workload: must be NAME or NAMESPACE/NAME",
            id="workload-blank",
        ),
        pytest.param(
            one_flow("{from: {workload: a, kind: 3}, to: b}"),
            "flows.yaml:4: flows[0].from.kind: must be a workload kind",
            id="kind-not-a-string",
        ),
        pytest.param(
            one_flow("{from: {kind: Deployment}, to: b}"),
            "flows.yaml:4: flows[0].from: kind goes with workload",
            id="kind-without-workload",
        ),
        pytest.param(
            one_flow("{from: {namespace: ''}, to: b}"),
            "flows.yaml:4: flows[0].from.namespace: must be a namespace name",
            id="end-namespace-empty",
        ),
        pytest.param(
            one_flow("{from: {labels: {app: 3}}, to: b}"),
            "flows.yaml:4: flows[0].from.labels: must map label keys to string values",
            id="label-value-not-a-string",
        ),
        pytest.param(
            one_flow("{from: {labels: {}}, to: b}"),
            "flows.yaml:4: flows[0].from.labels: must map label keys to string values",
            id="labels-empty",
        ),
        pytest.param(
            one_flow("{from: a, to: b, ports: []}"),
            "flows.yaml:4: flows[0].ports: a non-empty list such as [80/TCP, 53/UDP]",
            id="ports-empty",
        ),
    ],
)
def test_bad_flow_ends_and_keys_say_where_and_what(text: str, message: str) -> None:
    with pytest.raises(FlowsError) as caught:
        parse_flows(text, "flows.yaml")
    assert str(caught.value) == message


def test_the_check_catches_a_looser_policy_set() -> None:
    """differences() is the check generate runs; 06's 0.0.0.0/0 is looser than `external`."""
    options = Options()
    flows = read_flows(str(THREE_TIER / "flows.yaml"))
    found = differences(tutorial_policies(options), flows, options, GenerateSettings())
    assert found and all("kube-system/coredns -> app1-ns/frontend-deploy" in d for d in found)
    assert "the flows allow No Connections, the generated policies TCP 80" in found[0]


@pytest.mark.parametrize("by", ["workload", "pod"])
def test_from_matrix_freezes_todays_connectivity(by: str) -> None:
    options = Options()
    today = tutorial_policies(options)
    view = MatrixView(class_matrix(compile_cluster(today, options), include_external=True), by)
    exported = matrix_json(view, "upstream", None, False)
    flows = flows_from_matrix(exported, "today.json")
    result = generate(today.with_policies(()), flows, options, GenerateSettings(dns="none"))
    assert connectivity(result.cluster, options) == connectivity(today, options)


def test_from_matrix_rejects_other_documents() -> None:
    with pytest.raises(FlowsError, match="expected a ConnectivityMatrix"):
        flows_from_matrix(json.dumps({"kind": "Explanation"}), "x.json")


def test_external_blocks_except_every_pod_address() -> None:
    result = run(TUTORIAL_FLOWS.replace("{cidr: 0.0.0.0/0}", "{external: true}"), load(THREE_TIER))
    frontend = next(p for p in result.policies if p.name == "frontend-deploy-policy")
    block = frontend.ingress[0].peers[0].ip_block
    assert block is not None and block.except_ == ("10.244.0.0/16",)
    for pod in result.cluster.pods:
        assert not block.contains(ipaddress.ip_address(pod.ips[0]))


def test_example_flows_file_matches_its_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((EXAMPLES.parent / "docs" / "schemas" / "flows.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    document = yaml.safe_load((THREE_TIER / "flows.yaml").read_text())
    jsonschema.validate(document, schema)
    jsonschema.validate(yaml.safe_load(TUTORIAL_FLOWS), schema)


def test_label_values_kubectl_would_misread_are_quoted_and_load_back(yaml_cluster) -> None:
    """`y` is a boolean and `1e3` a number to kubectl: written plain, the policies would be
    refused; quoted, they load back to the same selectors."""
    tricky = SERVICE_CLUSTER.replace("app: web", "app: 'y'").replace("app: client", "app: '1e3'")
    flows = CLIENT_TO_WEB
    result = run(flows, yaml_cluster(tricky), dns="none")
    assert "app: 'y'" in result.yaml or 'app: "y"' in result.yaml, result.yaml
    assert "app: '1e3'" in result.yaml or 'app: "1e3"' in result.yaml, result.yaml
    docs, problems = parse_text(result.yaml, "generated.yaml")
    assert problems == []
    assert [d.data["spec"]["podSelector"] for d in docs] == [
        {"matchLabels": {"app": "1e3"}},
        {"matchLabels": {"app": "y"}},
    ]


@pytest.mark.parametrize("kind", ["networkpolicy", "cilium"])
def test_the_check_finds_by_whole_rows_what_it_finds_pair_by_pair(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check compares at once the pairs of a row where the flows expect nothing (or,
    from an unrestricted source, everything): on every subset of the tutorial's policies,
    looser and tighter than the flows, it reports what working out every pair reports."""
    from netpol.analysis import generate as planner_module

    options = Options()
    flows = read_flows(str(THREE_TIER / "flows.yaml"))
    # the tutorial's policies and one that shuts the frontend, whose flow comes from an
    # end that is no workload (external): no row of it may be taken as a whole
    shut = (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: frontend-shut, namespace: app1-ns}\n"
        "spec: {podSelector: {matchLabels: {role: frontend}}, policyTypes: [Ingress]}\n"
    )
    docs, _ = parse_text(shut, "shut.yaml")
    full = tutorial_policies(options)
    full = full.with_policies(full.policies + check_and_build(docs, [], options).cluster.policies)
    settings = GenerateSettings(kind=kind)
    found_any = False
    for keep in range(1 << len(full.policies)):
        policies = tuple(p for i, p in enumerate(full.policies) if keep >> i & 1)
        cluster = full.with_policies(policies)
        at_once = differences(cluster, flows, options, settings)
        monkeypatch.setattr(planner_module, "ROWS_AT_ONCE", False)
        one_by_one = differences(cluster, flows, options, settings)
        monkeypatch.setattr(planner_module, "ROWS_AT_ONCE", True)
        assert at_once == one_by_one
        found_any = found_any or bool(at_once)
    assert found_any
