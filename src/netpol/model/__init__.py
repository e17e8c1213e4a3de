"""Typed, immutable cluster objects, each remembering where it came from."""

from __future__ import annotations

from netpol.model.cluster import Cluster
from netpol.model.diagnostics import Diagnostic, Severity
from netpol.model.objects import (
    Container,
    ContainerPort,
    Namespace,
    Node,
    Pod,
    Service,
    ServicePort,
    Workload,
    WorkloadRef,
)
from netpol.model.options import PROFILES, Options, Profile
from netpol.model.policy import IPBlock, NetworkPolicy, Peer, PolicyPort, Rule
from netpol.model.selectors import LabelSelector, Requirement
from netpol.model.source import Source

__all__ = [
    "PROFILES",
    "Cluster",
    "Container",
    "ContainerPort",
    "Diagnostic",
    "IPBlock",
    "LabelSelector",
    "Namespace",
    "NetworkPolicy",
    "Node",
    "Options",
    "Peer",
    "Pod",
    "PolicyPort",
    "Profile",
    "Requirement",
    "Rule",
    "Service",
    "ServicePort",
    "Severity",
    "Source",
    "Workload",
    "WorkloadRef",
]
