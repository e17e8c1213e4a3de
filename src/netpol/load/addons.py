"""Cluster add-ons: the CoreDNS every KIND cluster runs, for inputs that leave it out.

A manifest set such as the tutorial's allows DNS egress to the pods labelled
``k8s-app: kube-dns`` in kube-system, but does not declare them: they come with the
cluster. Without them every verb would call those rules dead (``peer-selects-nothing``)
and ``kube-dns.kube-system`` unknown, while the cluster the manifests are applied to has
both. So the loader adds KIND's own objects (as ``kubectl get -n kube-system
deploy/coredns svc/kube-dns -o yaml`` shows them, trimmed to what matters for policy) and
says so in one info line. ``--no-implicit-dns`` (``Options.implicit_dns``) turns it off;
live mode never adds anything (a live cluster has its own, or truly lacks them).

Half of it given: an input with CoreDNS pods but no kube-dns Service gets KIND's Service,
one with the Service but no pods gets KIND's Deployment (an export of one kind, say
``kubectl get svc -A``, leaves out the other half the cluster still runs). The
Namespace is added only when the input does not declare kube-system.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from netpol.load.addresses import KUBE_DNS_SERVICE_IP
from netpol.load.yamldoc import RawDocument, locate_plain
from netpol.model.diagnostics import Diagnostic, Severity

DNS_NAMESPACE = "kube-system"
DNS_SERVICE = "kube-dns"
DNS_LABELS = {"k8s-app": "kube-dns"}  # KIND's (kubeadm's) label on CoreDNS and its Service
ADDON_PATH = "<implicit>"  # the source every add-on object shows (get, describe, lint)
OFF_SWITCH = "--no-implicit-dns"

_PORTS = (("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP"))

_NAMESPACE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {"name": DNS_NAMESPACE},
}
_DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "coredns", "namespace": DNS_NAMESPACE, "labels": DNS_LABELS},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": DNS_LABELS},
        "template": {
            "metadata": {"labels": DNS_LABELS},
            "spec": {
                "containers": [
                    {
                        "name": "coredns",
                        "image": "registry.k8s.io/coredns/coredns:v1.11.3",
                        "args": ["-conf", "/etc/coredns/Corefile"],
                        "ports": [
                            {"name": name, "containerPort": port, "protocol": protocol}
                            for name, port, protocol in _PORTS
                        ],
                    }
                ]
            },
        },
    },
}
_SERVICE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {
        "name": DNS_SERVICE,
        "namespace": DNS_NAMESPACE,
        "labels": {**DNS_LABELS, "kubernetes.io/name": "CoreDNS"},
    },
    "spec": {
        "type": "ClusterIP",
        "clusterIP": KUBE_DNS_SERVICE_IP,
        "selector": DNS_LABELS,
        "ports": [
            {"name": name, "port": port, "protocol": protocol, "targetPort": port}
            for name, port, protocol in _PORTS
        ],
    },
}


@dataclass(frozen=True, slots=True)
class ClusterDnsFound:
    """What of the cluster DNS the input already has."""

    namespace: bool  # a Namespace kube-system document
    pods: bool  # a pod, or a workload's pods, labelled k8s-app=kube-dns in kube-system
    service: bool  # the Service kube-system/kube-dns

    @property
    def complete(self) -> bool:
        return self.pods and self.service


def runs_cluster_dns(namespace: str, labels: dict[str, str]) -> bool:
    """Whether pods of ``namespace`` with ``labels`` are the cluster DNS (KIND's labels)."""
    return namespace == DNS_NAMESPACE and all(labels.get(k) == v for k, v in DNS_LABELS.items())


def dns_addon(
    found: ClusterDnsFound, taken_cluster_ips: Iterable[str] = ()
) -> tuple[list[RawDocument], Diagnostic | None]:
    """The documents to add for what ``found`` lacks, and the one info line saying so.

    The Service keeps KIND's 10.96.0.10 unless another Service of the input holds it
    (then it gets an address like any Service without one).
    """
    if found.complete:
        return [], None
    objects: list[dict[str, Any]] = []
    if not found.namespace:
        objects.append(_NAMESPACE)
    if not found.pods:
        objects.append(_DEPLOYMENT)
    if not found.service:
        service = _SERVICE
        if KUBE_DNS_SERVICE_IP in set(taken_cluster_ips):
            spec = {k: v for k, v in _SERVICE["spec"].items() if k != "clusterIP"}
            service = {**_SERVICE, "spec": spec}
        objects.append(service)
    docs = [RawDocument(ADDON_PATH, 0, locate_plain(o)) for o in objects]
    return docs, Diagnostic(
        Severity.INFO, _note(found), path=ADDON_PATH, obj="", reason="ImplicitAddon"
    )


def _note(found: ClusterDnsFound) -> str:
    off = f"({OFF_SWITCH} to turn off)"
    where = f"{DNS_NAMESPACE}/{DNS_SERVICE}"
    if not found.pods and not found.service:
        return (
            f"no {DNS_SERVICE} Service and no CoreDNS pods in the input: modelling KIND's "
            f"CoreDNS (Deployment coredns, 2 pods labelled k8s-app=kube-dns) and Service "
            f"{where} {KUBE_DNS_SERVICE_IP} in {DNS_NAMESPACE} {off}"
        )
    if not found.service:
        return (
            f"CoreDNS pods but no Service {where} in the input: modelling KIND's "
            f"({KUBE_DNS_SERVICE_IP}, selecting k8s-app=kube-dns) {off}"
        )
    return (
        f"Service {where} but no CoreDNS pods (k8s-app=kube-dns) in the input: modelling "
        f"KIND's Deployment coredns (2 pods) {off}"
    )
