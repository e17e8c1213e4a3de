"""Probe pods for ``netpol probe --probe-pods``: the only objects netpol ever creates.

A probe pod stands in for a workload whose image has no tool to connect with: same
namespace, same labels (less the controllers' own), a small image with a shell. So that
nothing real is disturbed:
  * it is controlled by a ConfigMap ``netpol-probe-<run>`` (an ownerReference with
    controller: true), so no ReplicaSet, StatefulSet or DaemonSet adopts it, and deleting
    the ConfigMap lets the garbage collector remove any pod left by a killed run;
  * a readiness probe that always fails keeps it out of every Service's endpoints;
  * activeDeadlineSeconds stops it after ten minutes whatever happens;
  * everything is deleted when the probes end, and on errors and Ctrl-C.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from netpol.load.live.client import Connection, LiveError, client_module
from netpol.load.live.listing import RBAC_DOC, call

PROBE_LABEL = "netpol.io/probe"
DEFAULT_IMAGE = "busybox:1.36"
DEADLINE_SECONDS = 600
NEEDS = f"--probe-pods needs create, get and delete on pods and configmaps ({RBAC_DOC})"
# Labels controllers put on their pods: copying them would let a controller count the probe
# pod as its own.
CONTROLLER_LABELS = (
    "pod-template-hash",
    "controller-revision-hash",
    "pod-template-generation",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "controller-uid",
    "batch.kubernetes.io/controller-uid",
    "job-name",
    "batch.kubernetes.io/job-name",
)


@dataclass
class ProbePods:
    """The probe pods of one run: created on demand, all deleted by ``cleanup``."""

    conn: Connection
    image: str = DEFAULT_IMAGE
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    anchors: dict[str, str] = field(default_factory=dict)  # namespace -> ConfigMap uid
    pods: list[tuple[str, str]] = field(default_factory=list)  # (namespace, name)

    @property
    def anchor_name(self) -> str:
        return f"netpol-probe-{self.run_id}"

    def create(self, namespace: str, stand_in_for: str, labels: Mapping[str, str]) -> str:
        """Create a probe pod with ``labels`` in ``namespace``; its name."""
        api = client_module().CoreV1Api(self.conn.api)
        uid = self.anchors.get(namespace)
        if uid is None:
            anchor = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": self.anchor_name,
                    "labels": {PROBE_LABEL: self.run_id},
                },
                "data": {"purpose": "owner of netpol probe pods; delete it to remove them"},
            }
            made = self._call(
                "create",
                f'configmaps in namespace "{namespace}"',
                lambda: api.create_namespaced_config_map(namespace, anchor, _preload_content=False),
            )
            uid = str(made["metadata"]["uid"])
            self.anchors[namespace] = uid
        kept = {k: v for k, v in labels.items() if k not in CONTROLLER_LABELS}
        name = f"netpol-probe-{self.run_id}-{len(self.pods)}"
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "labels": {**kept, PROBE_LABEL: self.run_id},
                "annotations": {"netpol.io/stands-in-for": stand_in_for},
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "name": self.anchor_name,
                        "uid": uid,
                        "controller": True,
                        "blockOwnerDeletion": False,
                    }
                ],
            },
            "spec": {
                "automountServiceAccountToken": False,
                "activeDeadlineSeconds": DEADLINE_SECONDS,
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 0,
                "containers": [
                    {
                        "name": "probe",
                        "image": self.image,
                        "command": ["sleep", str(DEADLINE_SECONDS)],
                        "readinessProbe": {
                            "exec": {"command": ["false"]},
                            "periodSeconds": DEADLINE_SECONDS,
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "runAsNonRoot": True,
                            "runAsUser": 65534,
                            "capabilities": {"drop": ["ALL"]},
                        },
                    }
                ],
            },
        }
        self._call(
            "create",
            f'pods in namespace "{namespace}"',
            lambda: api.create_namespaced_pod(namespace, pod, _preload_content=False),
        )
        self.pods.append((namespace, name))
        return name

    def wait_running(
        self, timeout: float = 90.0, sleep: Callable[[float], None] = time.sleep
    ) -> dict[tuple[str, str], str]:
        """Wait until every probe pod runs; their IPs. A LiveError names one that does not."""
        api = client_module().CoreV1Api(self.conn.api)
        deadline = time.monotonic() + timeout
        ips: dict[tuple[str, str], str] = {}
        while True:
            for namespace, name in self.pods:
                if (namespace, name) in ips:
                    continue
                pod = self._call(
                    "get",
                    f'pod "{name}" in namespace "{namespace}"',
                    partial(api.read_namespaced_pod, name, namespace, _preload_content=False),
                )
                status = pod.get("status") or {}
                if status.get("phase") == "Running" and status.get("podIP"):
                    ips[(namespace, name)] = str(status["podIP"])
                elif status.get("phase") in ("Failed", "Succeeded"):
                    raise LiveError(f"probe pod {namespace}/{name} stopped ({status.get('phase')})")
            if len(ips) == len(self.pods):
                return ips
            if time.monotonic() > deadline:
                waiting = [f"{ns}/{n}" for ns, n in self.pods if (ns, n) not in ips]
                raise LiveError(
                    f"probe pods not running after {timeout:g}s: {', '.join(waiting)} "
                    f"(can the nodes pull {self.image}? see --probe-image)"
                )
            sleep(1.0)

    def cleanup(self) -> list[str]:
        """Delete every probe pod and anchor ConfigMap; problems, if any, as lines."""
        api = client_module().CoreV1Api(self.conn.api)
        problems = []
        for namespace, name in self.pods:
            try:
                self._call(
                    "delete",
                    f'pod "{name}" in namespace "{namespace}"',
                    partial(
                        api.delete_namespaced_pod,
                        name,
                        namespace,
                        grace_period_seconds=0,
                        _preload_content=False,
                    ),
                )
            except LiveError as exc:
                if exc.status != 404:
                    problems.append(str(exc))
        for namespace in self.anchors:
            try:
                self._call(
                    "delete",
                    f'configmap "{self.anchor_name}" in namespace "{namespace}"',
                    partial(
                        api.delete_namespaced_config_map,
                        self.anchor_name,
                        namespace,
                        _preload_content=False,
                    ),
                )
            except LiveError as exc:
                if exc.status != 404:
                    problems.append(str(exc))
        self.pods.clear()
        self.anchors.clear()
        return problems

    def _call(self, verb: str, what: str, request: Callable[[], Any]) -> dict[str, Any]:
        return call(self.conn, verb, what, request, NEEDS)
