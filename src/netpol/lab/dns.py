"""The lab's cluster DNS: the names CoreDNS would answer, and a dnslib responder for them.

Records: ``<svc>.<ns>.svc.cluster.local`` (the ClusterIP, or the ready pod IPs of a headless
Service), ``<hostname>.<subdomain>.<ns>.svc.cluster.local`` for pods (StatefulSet pods) whose
subdomain names a headless Service, and ``a-b-c-d.<ns>.pod.cluster.local``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from dnslib import QTYPE, RCODE, RR, A, DNSRecord

from netpol.load.services import CLUSTER_DOMAIN, all_backends
from netpol.model.cluster import Cluster

TTL = 5


def search_domains(namespace: str) -> list[str]:
    """The search path of a pod of ``namespace`` (ClusterFirst DNS policy)."""
    return [f"{namespace}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN]


def resolv_conf(namespace: str, nameserver: str) -> str:
    """What the kubelet writes into a pod of ``namespace`` (ClusterFirst DNS policy)."""
    search = " ".join(search_domains(namespace))
    return f"search {search}\nnameserver {nameserver}\noptions ndots:5\n"


def dns_records(cluster: Cluster, pod_ips: Mapping[str, str]) -> dict[str, list[str]]:
    """Fully qualified name (lowercase, no trailing dot) -> IPv4 addresses."""
    records: dict[str, list[str]] = {}
    backends = all_backends(cluster)
    headless = set()
    for service in cluster.services:
        name = f"{service.name}.{service.namespace}.svc.{CLUSTER_DOMAIN}"
        if service.headless:
            headless.add((service.namespace, service.name))
            ips = []
            for backend in backends.get(service.id, []):
                ip = pod_ips.get(backend.pod.id)
                if ip is not None and ip not in ips:
                    ips.append(ip)
            records[name] = ips
        elif service.cluster_ip and _is_v4(service.cluster_ip):
            records[name] = [service.cluster_ip]
    for pod in cluster.pods:
        ip = pod_ips.get(pod.id)
        if ip is None:
            continue
        if pod.hostname and pod.subdomain and (pod.namespace, pod.subdomain) in headless:
            name = f"{pod.hostname}.{pod.subdomain}.{pod.namespace}.svc.{CLUSTER_DOMAIN}"
            records[name.lower()] = [ip]
        records[f"{ip.replace('.', '-')}.{pod.namespace}.pod.{CLUSTER_DOMAIN}"] = [ip]
    return records


def _is_v4(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 4
    except ValueError:
        return False


def answer(query: bytes, records: Mapping[str, list[str]]) -> bytes | None:
    """The DNS reply to ``query``; None when ``query`` is not a DNS message."""
    try:
        request = DNSRecord.parse(query)
    except Exception:  # dnslib raises several types on garbage; none of it is a DNS query
        return None
    reply = request.reply()
    reply.header.ra = 1
    for question in request.questions:
        qname = str(question.qname).rstrip(".").lower()
        qtype = question.qtype
        ips = records.get(qname)
        if ips is None:
            # Unknown in-cluster names are NXDOMAIN; the lab has no upstream for the rest.
            reply.header.rcode = RCODE.NXDOMAIN
            continue
        if qtype in (QTYPE.A, QTYPE.ANY):
            for ip in ips:
                reply.add_answer(RR(question.qname, QTYPE.A, rdata=A(ip), ttl=TTL))
        elif qtype == QTYPE.AAAA:
            continue  # the lab is IPv4 only: NOERROR with no answer, as for any v4-only name
    return bytes(reply.pack())
