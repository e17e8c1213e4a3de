"""``netpol explain``: the verdict, the evidence the user reads, the JSON contract, exit codes.

Driven through the click command object, so a verb module that another engineer has not
written yet cannot break these tests.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from netpol.cli.explain_cmd import command

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TUTORIAL = str(EXAMPLES / "tutorial")  # as published: backend-policy admits role=web
THREE_TIER = str(EXAMPLES / "three-tier")  # fixed: backend-policy admits role=frontend

# A Service whose port differs from its target port, to see the DNAT translation.
BACKEND_HTTP = """\
apiVersion: v1
kind: Service
metadata:
  name: backend-http
  namespace: app1-ns
spec:
  selector:
    app: app1
    role: backend
  ports:
    - name: http
      protocol: TCP
      port: 80
      targetPort: 5678
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


def headline(result: Result) -> str:
    return result.stdout.splitlines()[0]


def test_frontend_to_db_is_denied_by_both_sides_with_every_rule_named() -> None:
    result = run(THREE_TIER, "--from", "app1-ns/frontend-deploy", "--to", "db-svc:3306")

    assert result.exit_code == 0
    out = result.stdout
    assert re.fullmatch(
        r"app1-ns/frontend-deploy-\S+ \(10\.244\.[\d.]+\) -> app1-ns/db-sts-0 \(10\.244\.[\d.]+\)"
        r" port 3306/TCP: DENIED",
        headline(result),
    )
    assert "via headless Service app1-ns/db-svc -> pod IPs" in out
    # The source's egress: frontend-policy isolates it and neither of its rules matches db.
    assert re.search(r"Egress from app1-ns/frontend-deploy-\S+ \([\d.]+\): DENIED", out)
    assert "isolated by: app1-ns/frontend-policy" in out
    assert (
        "app1-ns/frontend-policy egress[0]: peer does not match: to[0] podSelector "
        "app=app1,role=backend does not match app1-ns/db-sts-0 (app=app1,role=db): "
        "role=backend fails"
    ) in out
    assert (
        "app1-ns/frontend-policy egress[1]: peer does not match: to[0] namespaceSelector "
        "kubernetes.io/metadata.name=kube-system does not match namespace app1-ns"
    ) in out
    # The destination's ingress: db-policy admits backend pods only.
    assert re.search(r"Ingress to app1-ns/db-sts-0 \([\d.]+\): DENIED", out)
    assert "isolated by: app1-ns/db-policy" in out
    assert re.search(
        r"app1-ns/db-policy ingress\[0\]: peer does not match: from\[0\] podSelector "
        r"app=app1,role=backend does not match app1-ns/frontend-deploy-\S+ "
        r"\(app=app1,role=frontend\): role=backend fails",
        out,
    )
    assert result.stderr == ""


def test_tutorial_as_published_denies_frontend_to_backend_and_names_the_empty_selector() -> None:
    result = run(TUTORIAL, "--from", "app1-ns/frontend-deploy", "--to", "backend-svc:5678")

    assert result.exit_code == 0
    assert headline(result).endswith("port 5678/TCP: DENIED")
    out = result.stdout
    # The frontend's own egress is fine: the fault is on the backend's side.
    assert re.search(r"Egress from app1-ns/frontend-deploy-\S+ \([\d.]+\): allowed", out)
    assert (
        "allowed by app1-ns/frontend-policy egress[0]: to[0] podSelector app=app1,role=backend; "
        "ports 5678/TCP"
    ) in out
    assert re.search(r"Ingress to app1-ns/backend-deploy-\S+ \([\d.]+\): DENIED", out)
    assert re.search(
        r"app1-ns/backend-policy ingress\[0\]: peer does not match: from\[0\] podSelector "
        r"app=app1,role=web does not match app1-ns/frontend-deploy-\S+ \(app=app1,role=frontend\):"
        r" role=web fails — this peer matches no pod at all",
        out,
    )


def test_three_tier_allows_frontend_to_backend_by_backend_policy_ingress_0() -> None:
    result = run(THREE_TIER, "--from", "app1-ns/frontend-deploy", "--to", "backend-svc:5678")

    assert result.exit_code == 0
    assert headline(result).endswith("port 5678/TCP: ALLOWED")
    assert (
        "allowed by app1-ns/backend-policy ingress[0]: from[0] podSelector app=app1,role=frontend;"
        " ports 5678/TCP"
    ) in result.stdout
    assert "no rule matched" not in result.stdout


def test_service_port_is_translated_to_the_backend_target_port(tmp_path: Path) -> None:
    extra = tmp_path / "backend-http.yaml"
    extra.write_text(BACKEND_HTTP)

    result = run(
        THREE_TIER, str(extra), "--from", "app1-ns/frontend-deploy", "--to", "backend-http:80"
    )

    assert result.exit_code == 0
    # Policies see the post-DNAT port: 5678, not the Service's 80.
    assert re.fullmatch(
        r".* -> app1-ns/backend-deploy-\S+ \([\d.]+\) port 5678/TCP: ALLOWED", headline(result)
    )
    assert re.search(
        r"^  via Service app1-ns/backend-http [\d.]+:80/TCP -> app1-ns/backend-deploy-\S+ port 5678$",
        result.stdout,
        re.MULTILINE,
    )


def test_service_port_equal_to_target_port_says_so_too() -> None:
    result = run(THREE_TIER, "--from", "app1-ns/frontend-deploy", "--to", "backend-svc:5678")

    assert re.search(
        r"via Service app1-ns/backend-svc [\d.]+:5678/TCP -> app1-ns/backend-deploy-\S+ port 5678",
        result.stdout,
    )


def test_statefulset_pod_dns_name_resolves_to_that_pod_and_backend_may_reach_it() -> None:
    result = run(
        THREE_TIER,
        "--from",
        "app1-ns/backend-deploy",
        "--to",
        "db-sts-0.db-svc.app1-ns.svc.cluster.local:3306",
    )

    assert result.exit_code == 0
    assert re.fullmatch(
        r"app1-ns/backend-deploy-\S+ \([\d.]+\) -> app1-ns/db-sts-0 \([\d.]+\) port 3306/TCP: ALLOWED",
        headline(result),
    )
    out = result.stdout
    assert "via DNS db-sts-0.db-svc.app1-ns.svc.cluster.local -> app1-ns/db-sts-0" in out
    assert "allowed by app1-ns/backend-policy egress[0]: to[0] podSelector app=app1,role=db" in out
    assert (
        "allowed by app1-ns/db-policy ingress[0]: from[0] podSelector app=app1,role=backend" in out
    )


@pytest.mark.parametrize("profile", ["upstream", "calico", "cilium"])
def test_external_ip_reaches_frontend_80_through_the_ipblock_under_every_profile(
    profile: str,
) -> None:
    result = run(
        THREE_TIER,
        "--profile",
        profile,
        "--from",
        "203.0.113.7",
        "--to",
        "app1-ns/frontend-deploy:80",
    )

    assert result.exit_code == 0
    assert re.fullmatch(
        r"ip:203\.0\.113\.7 -> app1-ns/frontend-deploy-\S+ \([\d.]+\) port 80/TCP: ALLOWED",
        headline(result),
    )
    out = result.stdout
    assert (
        "Egress from ip:203.0.113.7: allowed\n    not a pod: NetworkPolicy does not restrict it"
        in out
    )
    assert (
        "allowed by app1-ns/frontend-policy ingress[0]: from[0] ipBlock 0.0.0.0/0; ports 80/TCP"
    ) in out


@pytest.mark.parametrize(
    ("profile", "verdict"),
    [
        pytest.param("upstream", "ALLOWED", id="upstream-ipblock-matches-pod-ips"),
        pytest.param("calico", "ALLOWED", id="calico-ipblock-matches-pod-ips"),
        pytest.param("cilium", "DENIED", id="cilium-ipblock-never-matches-pods"),
    ],
)
def test_pod_source_to_frontend_80_depends_on_the_profile(profile: str, verdict: str) -> None:
    # CoreDNS pods are not egress-isolated, so only frontend's ipBlock ingress decides.
    result = run(
        THREE_TIER,
        "--profile",
        profile,
        "--from",
        "kube-system/coredns",
        "--to",
        "app1-ns/frontend-deploy:80",
    )

    assert result.exit_code == 0
    heads = [line for line in result.stdout.splitlines() if line.startswith("kube-system/")]
    assert len(heads) == 2  # two CoreDNS replicas, one flow each
    assert all(h.endswith(f"port 80/TCP: {verdict}") for h in heads)
    if verdict == "DENIED":
        assert (
            "app1-ns/frontend-policy ingress[0]: peer does not match: from[0] ipBlock never "
            "matches pods under the cilium profile"
        ) in result.stdout


def test_a_pod_reaching_itself_is_allowed_with_a_note() -> None:
    result = run(THREE_TIER, "--from", "app1-ns/db-sts-0", "--to", "app1-ns/db-sts-0:3306")

    assert result.exit_code == 0
    assert re.fullmatch(
        r"app1-ns/db-sts-0 \(([\d.]+)\) -> app1-ns/db-sts-0 \(\1\) port 3306/TCP: ALLOWED",
        headline(result),
    )
    assert result.stdout.splitlines()[1] == "  a pod can always reach itself"


def test_without_a_port_the_whole_allowed_set_is_printed() -> None:
    result = run(THREE_TIER, "--from", "app1-ns/frontend-deploy", "--to", "app1-ns/backend-deploy")

    assert result.exit_code == 0
    assert headline(result).endswith("(all ports): ALLOWED")
    assert result.stdout.rstrip().endswith("allowed connections: TCP 5678")


# --- -o json -------------------------------------------------------------------------------

FLOW_KEYS = {
    "src",
    "dst",
    "srcIP",
    "dstIP",
    "port",
    "protocol",
    "via",
    "allowed",
    "allowedConnections",
    "allowedText",
    "note",
    "egress",
    "ingress",
}
SIDE_KEYS = {"isolated", "exemption", "policies", "allowed", "rules"}  # docs/json.md
RULE_KEYS = {
    "policy",
    "direction",
    "rule",
    "peerMatched",
    "peer",
    "connections",
    "allows",
    "peerMisses",
}


def explain_json(*args: str) -> dict[str, object]:
    result = run(*args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def test_json_has_the_documented_keys_and_the_denial_evidence() -> None:
    document = explain_json(
        TUTORIAL, "--from", "app1-ns/frontend-deploy", "--to", "backend-svc:5678"
    )

    assert document["kind"] == "Explanation"
    [flow] = document["flows"]  # type: ignore[misc]
    assert set(flow) >= FLOW_KEYS
    assert flow["src"].startswith("app1-ns/frontend-deploy-")
    assert flow["dst"].startswith("app1-ns/backend-deploy-")
    assert (flow["port"], flow["protocol"], flow["allowed"]) == (5678, "TCP", False)
    assert flow["via"].startswith("Service app1-ns/backend-svc ")
    assert (flow["allowedConnections"], flow["allowedText"]) == ({}, "No Connections")
    assert flow["note"] is None

    egress, ingress = flow["egress"], flow["ingress"]
    assert set(egress) >= SIDE_KEYS and set(ingress) >= SIDE_KEYS
    assert (egress["isolated"], egress["exemption"]) == (True, None)
    assert egress["policies"] == ["app1-ns/frontend-policy"]
    assert egress["allowed"] == {"TCP": [[5678, 5678]]}
    allowing = egress["rules"][0]
    assert set(allowing) >= RULE_KEYS
    assert allowing == {
        **allowing,
        "policy": "app1-ns/frontend-policy",
        "direction": "Egress",
        "rule": 0,
        "peerMatched": True,
        "peer": 0,
        "connections": "TCP 5678",
        "allows": "TCP 5678",
        "peerMisses": [],
    }
    assert egress["rules"][1]["peerMisses"][0]["part"] == "namespace"

    assert ingress["policies"] == ["app1-ns/backend-policy"]
    assert ingress["allowed"] == {}
    [rule] = ingress["rules"]
    assert (rule["policy"], rule["direction"], rule["rule"]) == (
        "app1-ns/backend-policy",
        "Ingress",
        0,
    )
    assert (rule["peerMatched"], rule["peer"], rule["allows"]) == (False, None, "No Connections")
    assert rule["connections"] == "TCP 5678"  # the port matches; the peer does not
    [miss] = rule["peerMisses"]
    assert (miss["peer"], miss["part"]) == (0, "pod")
    assert "podSelector app=app1,role=web does not match" in miss["detail"]


def test_json_for_an_external_source_marks_its_side_as_not_a_pod() -> None:
    document = explain_json(
        THREE_TIER, "--from", "203.0.113.7", "--to", "app1-ns/frontend-deploy:80"
    )

    [flow] = document["flows"]  # type: ignore[misc]
    assert (flow["src"], flow["srcIP"], flow["allowed"]) == ("ip:203.0.113.7", "203.0.113.7", True)
    assert flow["egress"]["exemption"] == "not a pod"
    assert (flow["egress"]["isolated"], flow["egress"]["rules"]) == (False, [])
    [rule] = flow["ingress"]["rules"]
    assert (rule["policy"], rule["peerMatched"], rule["peer"]) == (
        "app1-ns/frontend-policy",
        True,
        0,
    )


def test_json_for_a_pod_reaching_itself_carries_the_note() -> None:
    document = explain_json(
        THREE_TIER, "--from", "app1-ns/db-sts-0", "--to", "app1-ns/db-sts-0:3306"
    )

    [flow] = document["flows"]  # type: ignore[misc]
    assert (flow["allowed"], flow["note"]) == (True, "a pod can always reach itself")
    assert flow["allowedText"] == "All Connections"


def test_json_has_one_flow_per_source_and_destination_pod() -> None:
    document = explain_json(
        THREE_TIER, "--from", "kube-system/coredns", "--to", "app1-ns/frontend-deploy:80"
    )

    flows = document["flows"]
    assert isinstance(flows, list)
    assert len({f["src"] for f in flows}) == 2
    assert all(f["allowed"] for f in flows)


# --- --exit-code -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("example", "flags", "code"),
    [
        pytest.param(TUTORIAL, ["--exit-code"], 1, id="denied-with-exit-code"),
        pytest.param(TUTORIAL, [], 0, id="denied-without-exit-code"),
        pytest.param(THREE_TIER, ["--exit-code"], 0, id="allowed-with-exit-code"),
        pytest.param(TUTORIAL, ["--exit-code", "-o", "json"], 1, id="denied-json-exit-code"),
    ],
)
def test_exit_code(example: str, flags: list[str], code: int) -> None:
    result = run(example, "--from", "app1-ns/frontend-deploy", "--to", "backend-svc:5678", *flags)

    assert result.exit_code == code
    assert result.stdout  # the explanation is printed either way


# --- bad input: one line on stderr, exit 2, nothing on stdout ---------------------------------

MISSING = "/nonexistent/netpol-test/path.yaml"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            [THREE_TIER, "--from", "app1-ns/nosuch", "--to", "backend-svc:5678"],
            "error: 'app1-ns/nosuch': no pod, workload or Service 'nosuch' in namespace app1-ns",
            id="unknown-pod-ns-slash-name",
        ),
        pytest.param(
            [THREE_TIER, "--from", "pod/app1-ns/nosuch", "--to", "backend-svc:5678"],
            "error: no pod 'nosuch' in namespace app1-ns",
            id="unknown-pod-kind-slash-name",
        ),
        pytest.param(
            [THREE_TIER, "--from", "nosuch-ns/x", "--to", "backend-svc:5678"],
            "error: 'nosuch-ns/x': no namespace 'nosuch-ns'",
            id="unknown-namespace",
        ),
        pytest.param(
            [THREE_TIER, "--from", "app1-ns/frontend-deploy", "--to", "svc/nosuch:5678"],
            "error: no Service 'nosuch' in namespace app1-ns",
            id="unknown-service-kind-slash-name",
        ),
        pytest.param(
            [THREE_TIER, "--from", "app1-ns/frontend-deploy", "--to", "nosuch-svc:5678"],
            "error: 'nosuch-svc' is not a Service, pod or workload in namespace app1-ns, nor a "
            "DNS name the cluster answers (write NAMESPACE/NAME, KIND/NAME or an IP)",
            id="unknown-bare-name",
        ),
        pytest.param(
            [THREE_TIER, "--from", "app1-ns/frontend-deploy", "--to", "backend-svc:80"],
            "error: Service app1-ns/backend-svc has no port 80/TCP (its ports: 5678/TCP)",
            id="service-without-that-port",
        ),
        pytest.param(
            [THREE_TIER, "--from", "app1-ns/frontend-deploy", "--to", "backend-svc:5678/UDP"],
            "error: Service app1-ns/backend-svc has no port 5678/UDP (its ports: 5678/TCP)",
            id="service-without-that-protocol",
        ),
        pytest.param(
            [THREE_TIER, "--from", "app1-ns/frontend-deploy", "--to", "backend-svc:99999"],
            "error: port 99999 in 'backend-svc:99999' is outside 1-65535",
            id="port-above-65535",
        ),
        pytest.param(
            [THREE_TIER, "--from", "app1-ns/frontend-deploy", "--to", "backend-svc:0"],
            "error: port 0 in 'backend-svc:0' is outside 1-65535",
            id="port-zero",
        ),
        pytest.param(
            ["--from", "app1-ns/frontend-deploy", "--to", "backend-svc:5678"],
            "error: no input: give one or more files, directories, or - for stdin",
            id="no-paths",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = run(*args)

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [message]
    assert result.stdout == ""


def test_missing_from_is_a_usage_error() -> None:
    result = run(THREE_TIER, "--to", "backend-svc:5678")

    assert result.exit_code == 2
    assert "Error: Missing option '--from'." in result.stderr
    assert result.stdout == ""


def test_unreadable_path_names_the_path_and_evaluates_nothing() -> None:
    result = run(MISSING, "--from", "app1-ns/frontend-deploy", "--to", "backend-svc:5678")

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"{MISSING}: error: no such file or directory"]
    assert result.stdout == ""


# --- known bugs (see the report in the commit message) -----------------------------------------


def pod_ip(workload: str) -> str:
    """The IP of the (single) pod of ``workload``, as explain reports it."""
    document = explain_json(THREE_TIER, "--from", workload, "--to", workload)
    return str(document["flows"][0]["srcIP"])  # type: ignore[index]


def test_a_pod_ip_destination_is_that_pod() -> None:
    ip = pod_ip("app1-ns/backend-deploy")

    result = run(THREE_TIER, "--from", "app1-ns/frontend-deploy", "--to", f"{ip}:5678")

    # The same flow as --to app1-ns/backend-deploy:5678, which is allowed.
    assert re.fullmatch(
        rf".* -> app1-ns/backend-deploy-\S+ \({re.escape(ip)}\) port 5678/TCP: ALLOWED",
        headline(result),
    )


def test_a_pod_ip_source_is_that_pod() -> None:
    ip = pod_ip("app1-ns/frontend-deploy")

    result = run(THREE_TIER, "--from", ip, "--to", "app1-ns/backend-deploy:5678")

    assert headline(result).startswith("app1-ns/frontend-deploy-")
    assert headline(result).endswith("port 5678/TCP: ALLOWED")


def test_a_service_cluster_ip_destination_is_translated_like_the_service_name() -> None:
    by_name = run(THREE_TIER, "--from", "app1-ns/frontend-deploy", "--to", "backend-svc:5678")
    cluster_ip = re.search(r"via Service app1-ns/backend-svc ([\d.]+):5678", by_name.stdout)
    assert cluster_ip is not None

    result = run(
        THREE_TIER, "--from", "app1-ns/frontend-deploy", "--to", f"{cluster_ip.group(1)}:5678"
    )

    assert headline(result) == headline(by_name)  # backend pod, port 5678, ALLOWED
