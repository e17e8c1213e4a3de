"""What validate accepts every evaluating verb and the lab's plan accept, and what they
refuse validate refuses first, on its line with the API server's words (issue 14, item 4).

Each case is one input that once split them: ``validate`` said valid while ``matrix``
refused it, or ``lab up`` died on it (a traceback, or ``nft``'s "File exists").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netpol.load.paths import read_paths
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster
from netpol.validate.summary import validate_all

from .lab_plan import keys_nft_refuses, lab_plan

INVALID_IP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
LOOPBACK = "may not be in the loopback range (127.0.0.0/8, ::1/128)"
LINK_LOCAL = "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
LINK_LOCAL_MULTICAST = "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
MULTICAST = "may not be a multicast address (224.0.0.0/4, ff00::/8)"
BROADCAST = "may not be the broadcast address (255.255.255.255)"
NODE_PORT_TAKEN = "provided port is already allocated"

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"  # lines 1-3


def pod(name: str, status: str = "", command: str = "", host_network: bool = False) -> str:
    """A Pod in namespace a: ``---`` and 4 lines, then ``status`` (its 6th line) if given."""
    extra = f", command: {command}" if command else ""
    network = ", hostNetwork: true" if host_network else ""
    spec = (
        f"{{containers: [{{name: c, image: x, ports: [{{containerPort: 80}}]{extra}}}]{network}}}"
    )
    text = (
        f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: a, "
        f"labels: {{app: {name}}}}}\nspec: {spec}\n"
    )
    return text + (f"status: {status}\n" if status else "")


def service(name: str, spec: str, namespace: str = "a") -> str:
    """A Service: ``---``, then apiVersion, kind, metadata, and ``spec`` on its 5th line."""
    return (
        f"---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {namespace}}}\n"
        f"spec: {spec}\n"
    )


def node_port(port: int) -> str:
    return f"{{type: NodePort, selector: {{app: p}}, ports: [{{port: 80, nodePort: {port}}}]}}"


POLICY_NULL_VALUE = (
    "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: np, namespace: a}\n"
    "spec:\n  podSelector: {matchExpressions: [{key: app, operator: In, values: [null]}]}\n"
)

# id, input, what validate reports: (severity, field, message, value, line)
Finding = tuple[str, str, str, object, int]
CASES: list[tuple[str, str, list[Finding]]] = [
    (
        "pod-ip-leading-zeros",
        NAMESPACE + pod("p", "{podIP: 010.0.0.1}"),
        [("error", "status.podIP", "must not have leading 0s", "010.0.0.1", 9)],
    ),
    (
        "pod-ips-leading-zeros",
        NAMESPACE + pod("p", "{podIPs: [{ip: 10.0.0.01}]}"),
        [("error", "status.podIPs[0].ip", "must not have leading 0s", "10.0.0.01", 9)],
    ),
    (
        "pod-ip-ipv4-mapped",
        NAMESPACE + pod("p", "{podIP: '::ffff:10.0.0.1'}"),
        [
            (
                "error",
                "status.podIP",
                "must not be an IPv4-mapped IPv6 address",
                "::ffff:10.0.0.1",
                9,
            )
        ],
    ),
    (
        "pod-ip-loopback",
        NAMESPACE + pod("p", "{podIP: 127.0.0.1}"),
        [("error", "status.podIP", LOOPBACK, "127.0.0.1", 9)],
    ),
    (
        "pod-ip-ipv6-loopback",
        NAMESPACE + pod("p", "{podIPs: [{ip: 10.0.0.1}, {ip: '::1'}]}"),
        [("error", "status.podIPs[1].ip", LOOPBACK, "::1", 9)],
    ),
    (
        "pod-ip-unspecified",
        NAMESPACE + pod("p", "{podIP: 0.0.0.0}"),
        [("error", "status.podIP", "may not be unspecified (0.0.0.0)", "0.0.0.0", 9)],
    ),
    (
        "pod-ip-link-local-multicast",
        NAMESPACE + pod("p", "{podIP: 224.0.0.1}"),
        [("error", "status.podIP", LINK_LOCAL_MULTICAST, "224.0.0.1", 9)],
    ),
    (
        "pod-ip-multicast",
        NAMESPACE + pod("p", "{podIP: 239.1.2.3}"),
        [("error", "status.podIP", MULTICAST, "239.1.2.3", 9)],
    ),
    (
        "pod-ip-broadcast",
        NAMESPACE + pod("p", "{podIP: 255.255.255.255}"),
        [("error", "status.podIP", BROADCAST, "255.255.255.255", 9)],
    ),
    (
        "pod-ip-link-local",
        NAMESPACE + pod("p", "{podIP: 169.254.1.1}"),
        [("error", "status.podIP", LINK_LOCAL, "169.254.1.1", 9)],
    ),
    (
        "duplicate-pod-ip",
        NAMESPACE + pod("p", "{podIP: 10.0.0.1}") + pod("q", "{podIP: 10.0.0.1}"),
        [
            (
                "error",
                "status.podIP",
                "Duplicate value: also the IP of Pod/a/p (in.yaml:9); "
                "no two running pods have the same IP",
                "10.0.0.1",
                15,
            )
        ],
    ),
    (
        "duplicate-pod-ip-ipv6-spelling",
        NAMESPACE + pod("p", "{podIP: '2001:db8::1'}") + pod("q", "{podIP: '2001:DB8:0::1'}"),
        [
            (
                "error",
                "status.podIP",
                "Duplicate value: also the IP of Pod/a/p (in.yaml:9); "
                "no two running pods have the same IP",
                "2001:DB8:0::1",
                15,
            )
        ],
    ),
    # a finished pod's IP is free again; hostNetwork pods share their node's IP
    (
        "same-ip-as-a-finished-pod",
        NAMESPACE
        + pod("p", "{podIP: 10.0.0.1, phase: Succeeded}")
        + pod("q", "{podIP: 10.0.0.1, phase: Running}"),
        [],
    ),
    (
        "same-ip-host-network",
        NAMESPACE
        + pod("p", "{podIP: 172.18.0.2}", host_network=True)
        + pod("q", "{podIP: 172.18.0.2}", host_network=True),
        [],
    ),
    # the same pod written twice is one pod (the later definition is used)
    ("same-pod-twice", NAMESPACE + pod("p", "{podIP: 10.0.0.1}") * 2, []),
    (
        "service-ports-null",
        NAMESPACE + pod("p") + service("s", "{selector: {app: p}, ports: [null]}"),
        [("error", "spec.ports[0].port", "must be between 1 and 65535, inclusive", 0, 13)],
    ),
    # the API server decodes a null string in a list as "", a valid label value
    ("selector-values-null", NAMESPACE + pod("p") + POLICY_NULL_VALUE, []),
    (
        "same-node-port",
        NAMESPACE + pod("p") + service("s1", node_port(30080)) + service("s2", node_port(30080)),
        [
            (
                "error",
                "spec.ports[0].nodePort",
                f"{NODE_PORT_TAKEN} (by Service/a/s1, in.yaml:13)",
                30080,
                18,
            )
        ],
    ),
    (
        "same-node-port-other-protocol",
        NAMESPACE
        + pod("p")
        + service("s1", node_port(30080))
        + service("s2", "{type: NodePort, ports: [{port: 80, nodePort: 30080, protocol: UDP}]}"),
        [
            (
                "error",
                "spec.ports[0].nodePort",
                f"{NODE_PORT_TAKEN} (by Service/a/s1, in.yaml:13)",
                30080,
                18,
            )
        ],
    ),
    (
        "cluster-ip-of-kube-dns",
        NAMESPACE
        + pod("p")
        + service(
            "s", "{clusterIP: 10.96.0.10, selector: {app: p}, ports: [{port: 53, protocol: UDP}]}"
        ),
        [
            (
                "error",
                "spec.clusterIP",
                "failed to allocate IP 10.96.0.10: provided IP is already allocated "
                "(by Service/kube-system/kube-dns, which kubeadm and KIND clusters give this address)",
                "10.96.0.10",
                13,
            )
        ],
    ),
    (
        "cluster-ip-of-kube-dns-declared-elsewhere",
        NAMESPACE
        + pod("p")
        + service("kube-dns", "{clusterIP: 10.96.0.53, ports: [{port: 53}]}", "kube-system")
        + service("s", "{clusterIP: 10.96.0.10, ports: [{port: 53}]}"),
        [],
    ),
    (
        "same-cluster-ip",
        NAMESPACE
        + pod("p")
        + service("s1", "{clusterIP: 10.96.5.5, selector: {app: p}, ports: [{port: 80}]}")
        + service("s2", "{clusterIPs: [10.96.5.5], selector: {app: p}, ports: [{port: 80}]}"),
        [
            (
                "error",
                "spec.clusterIPs[0]",
                "failed to allocate IP 10.96.5.5: provided IP is already allocated "
                "(by Service/a/s1, in.yaml:13)",
                "10.96.5.5",
                18,
            )
        ],
    ),
    (
        "cluster-ip-loopback",
        NAMESPACE + pod("p") + service("s", "{clusterIP: 127.0.0.1, ports: [{port: 80}]}"),
        [("error", "spec.clusterIP", LOOPBACK, "127.0.0.1", 13)],
    ),
    (
        "http-server-port-python-refuses",
        NAMESPACE + pod("p", command='["python3", "-m", "http.server", "²"]'),
        [
            (
                "warning",
                "spec.containers[0].command[3]",
                "python3 -m http.server would not start (argument port: invalid int value: "
                "'²'); the lab does not run it and listens on the declared ports instead",
                "²",
                8,
            )
        ],
    ),
    (
        "http-server-port-python-reads",
        NAMESPACE + pod("p", command='["python3", "-m", "http.server", "٨٠"]'),
        [],
    ),
]


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "in.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_validate_reports_what_the_verbs_and_the_lab_would_refuse(
    tmp_path: Path, text: str, expected: list[Finding]
) -> None:
    docs, problems = read_paths([_write(tmp_path, text)])
    assert problems == []
    result = validate_all(docs, problems)
    seen = [
        (d.severity.value, d.field, d.message.replace(f"{tmp_path}/", ""), d.value, d.line)
        for d in result.diagnostics
        if d.severity.value in ("error", "warning")
    ]
    assert seen == expected


@pytest.mark.parametrize("text", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_the_verbs_and_the_lab_accept_exactly_what_validate_accepts(
    tmp_path: Path, text: str
) -> None:
    paths = [_write(tmp_path, text)]
    docs, problems = read_paths(paths)
    valid = validate_all(docs, problems).valid
    loaded = load_cluster(paths, Options())
    assert loaded.ok is valid, [d.one_line() for d in loaded.errors]
    if valid:
        _, ruleset = lab_plan(paths)
        assert keys_nft_refuses(ruleset.text) == []
    else:  # every verb refuses it with validate's own lines
        validated = {d.one_line() for d in validate_all(docs, problems).diagnostics}
        assert {d.one_line() for d in loaded.errors} <= validated


def test_items_of_a_list_collide_like_documents(tmp_path: Path) -> None:
    items = "".join(
        f"  - {{apiVersion: v1, kind: Pod, metadata: {{name: {n}, namespace: a}}, "
        "spec: {containers: [{name: c, image: x}]}, status: {podIP: 10.0.0.1}}\n"
        for n in ("p", "q")
    )
    docs, problems = read_paths([_write(tmp_path, f"apiVersion: v1\nkind: List\nitems:\n{items}")])
    found = [(d.obj, d.field, d.line) for d in validate_all(docs, problems).diagnostics]
    assert found == [("Pod/a/q", "status.podIP", 5)]


def test_skip_invalid_keeps_the_first_claim_and_drops_the_later(tmp_path: Path) -> None:
    text = NAMESPACE + pod("p", "{podIP: 10.0.0.1}") + pod("q", "{podIP: 10.0.0.1}")
    loaded = load_cluster([_write(tmp_path, text)], Options(skip_invalid=True, implicit_dns=False))
    assert loaded.ok
    assert [p.id for p in loaded.cluster.pods] == ["a/p"]
    assert [d.message for d in loaded.warnings if d.reason == "Duplicate"] == [
        "Duplicate value: also the IP of Pod/a/p (in.yaml:9); no two running pods have the "
        "same IP (object skipped)".replace("in.yaml", f"{tmp_path}/in.yaml")
    ]
