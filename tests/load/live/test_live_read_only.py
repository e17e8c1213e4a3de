"""Live mode cannot write: every verb but a read is refused before it leaves the process,
whatever API method is called; only a connection opened for probe --probe-pods writes."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from netpol.load.live import LiveError, LiveTarget, connect

from .fake_apiserver import FakeApiServer

CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}


def _writes(api: Any) -> list[Any]:
    core = client.CoreV1Api(api)
    networking = client.NetworkingV1Api(api)
    custom = client.CustomObjectsApi(api)
    anp = ("policy.networking.k8s.io", "v1alpha1", "adminnetworkpolicies")
    calico = ("projectcalico.org", "v3")
    return [
        lambda: core.create_namespaced_config_map("app1-ns", CONFIG_MAP),
        lambda: core.delete_namespaced_pod("db-sts-0", "app1-ns"),
        lambda: core.patch_namespace("app1-ns", {"metadata": {"labels": {"a": "b"}}}),
        lambda: core.replace_namespaced_service("db-svc", "app1-ns", {}),
        lambda: networking.delete_collection_namespaced_network_policy("app1-ns"),
        lambda: custom.create_cluster_custom_object(*anp, {"metadata": {"name": "x"}}),
        lambda: custom.delete_cluster_custom_object(*anp, "cluster-dns"),
        lambda: custom.patch_namespaced_custom_object(
            *calico, "app1-ns", "networkpolicies", "db-ingress-log", {"spec": {}}
        ),
        lambda: custom.replace_cluster_custom_object(*calico, "tiers", "security", {}),
    ]


def test_a_reading_connection_sends_no_write_of_any_verb(
    apiserver: FakeApiServer, kubeconfig: str
) -> None:
    conn = connect(LiveTarget(kubeconfig))
    for write in _writes(conn.api):
        with pytest.raises(LiveError, match=r"netpol refused to send (POST|DELETE|PATCH|PUT) /"):
            write()
    assert apiserver.requests == []
    client.CoreV1Api(conn.api).list_namespace()
    assert apiserver.verbs() == {"GET"}


def test_only_a_connection_opened_for_writing_writes(
    apiserver: FakeApiServer, kubeconfig: str
) -> None:
    conn = connect(LiveTarget(kubeconfig), writes=True)
    client.CoreV1Api(conn.api).create_namespaced_config_map("app1-ns", CONFIG_MAP)
    assert apiserver.verbs() == {"POST"}
