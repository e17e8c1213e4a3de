"""``netpol probe`` against the fake API server's websocket exec, on a simulated cluster whose
pods have the tools their images really have (python, bash, nothing for distroless)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from load.live.fake_apiserver import FakeApiServer, serve
from netpol.cli.probe_cmd import command as probe

# What `command -v` finds in each image (coredns is distroless: no shell at all).
TOOLS = {
    "python:3.11-slim": "python3\nbash\ntimeout\n",
    "nginx": "bash\ntimeout\n",
    "mysql:8.0": "bash\ntimeout\n",
    "busybox:1.36": "nc\nbusybox\ntimeout\n",
}
IPS = {"10.244.1.2": "backend", "10.244.1.3": "db", "10.244.2.2": "frontend"}
# The tutorial's policies as published, enforced: in app1-ns only backend -> db:3306 connects
# (the backend admits role: web, and the frontend pods carry role: frontend).
ENFORCED = {("backend", "db", 3306)}

Reach = Callable[[str, str, int], bool]


def simulated(reach: Reach, tools: dict[str, str] = TOOLS) -> Callable[..., Any]:
    def handler(pod: dict[str, Any], command: list[str]) -> tuple[int | None, str, str]:
        image = pod["spec"]["containers"][0]["image"]
        if image not in tools:
            return None, "", f'exec: "{command[0]}": executable file not found in $PATH'
        if command[:2] == ["sh", "-c"]:
            return 0, tools[image], ""
        ip, port = command[-3:-1] if command[0].startswith("python") else command[-2:]
        ok = reach(pod["metadata"]["labels"].get("role", ""), IPS.get(ip, ip), int(port))
        if command[0].startswith("python"):
            return (0 if ok else 3), "", ""
        if command[0] == "timeout":
            return (0 if ok else 124), "", ""
        return (0 if ok else 1), "", ""

    return handler


@pytest.fixture
def apiserver() -> Iterator[FakeApiServer]:
    with serve(FakeApiServer.from_fixtures("tutorial")) as server:
        yield server


def run(server: FakeApiServer, tmp_path: Path, *args: str) -> Result:
    config = str(server.kubeconfig(tmp_path / "kc"))
    return CliRunner().invoke(probe, ["--kubeconfig", config, *args], catch_exceptions=False)


def test_kindnet_ignores_the_tutorials_policies(apiserver: FakeApiServer, tmp_path: Path) -> None:
    apiserver.exec_handler = simulated(lambda src, dst, port: True)
    result = run(apiserver, tmp_path, "-n", "app1-ns", "--timeout", "1")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["FROM", "TO", "PORT", "PREDICTED", "OBSERVED", "RESULT", "DETAIL"]
    rows = {
        (r.split()[0], r.split()[1], r.split()[4], r.split()[5], r.split()[6], r.split()[7])
        for r in lines[1:7]
    }
    assert (
        "app1-ns/frontend-deploy-65856887c-q62wc",
        "app1-ns/backend-deploy-5c694bf5fc-6vgxk",
        "denied",
        "allowed",
        "MISMATCH",
        "connected",
    ) in rows
    assert (
        "app1-ns/backend-deploy-5c694bf5fc-6vgxk",
        "app1-ns/db-sts-0",
        "allowed",
        "allowed",
        "ok",
        "connected",
    ) in rows
    assert lines[-1] == (
        "6 probes: 1 agree, 5 disagree, 0 not probed (profile upstream, CNI kindnet (KIND))"
    )
    # read-only: exec is the only thing beyond get and list, and nothing was created
    assert apiserver.verbs() == {"GET"}
    assert {r.path.rsplit("/", 1)[-1] for r in apiserver.requests if "/pods/" in r.path} == {"exec"}


def test_an_enforcing_cluster_agrees(apiserver: FakeApiServer, tmp_path: Path) -> None:
    apiserver.exec_handler = simulated(lambda src, dst, port: (src, dst, port) in ENFORCED)
    result = run(apiserver, tmp_path, "-n", "app1-ns", "-o", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["summary"] == {"total": 6, "agree": 6, "disagree": 0, "unprobed": 0}
    details = {
        (p["from"].split("/")[1].split("-")[0], p["to"], p["port"]): p["detail"]
        for p in report["probes"]
    }
    assert details[("backend", "app1-ns/db-sts-0", 3306)] == "connected (python3)"
    assert details[("db", "app1-ns/frontend-deploy-65856887c-q62wc", 80)] == "timed out (bash)"
    assert (
        details[("frontend", "app1-ns/backend-deploy-5c694bf5fc-6vgxk", 5678)] == "timed out (bash)"
    )


def test_images_without_tools_are_not_probed_unless_probe_pods(
    apiserver: FakeApiServer, tmp_path: Path
) -> None:
    no_nginx = {k: v for k, v in TOOLS.items() if k != "nginx"}
    apiserver.exec_handler = simulated(
        lambda src, dst, port: (src, dst, port) in ENFORCED, no_nginx
    )
    result = run(apiserver, tmp_path, "-n", "app1-ns")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-1] == (
        "note: 1 source pod has no tool to connect with (app1-ns/frontend-deploy-65856887c-q62wc); "
        "--probe-pods creates stand-ins with the same labels"
    )
    assert result.stdout.splitlines()[-1].startswith("6 probes: 4 agree, 0 disagree, 2 not probed")
    assert 'no shell in the image (exec: "sh": executable file not found in $PATH)' in result.stdout
    assert "POST" not in apiserver.verbs()  # nothing is created without --probe-pods

    result = run(apiserver, tmp_path, "-n", "app1-ns", "--probe-pods")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("6 probes: 6 agree, 0 disagree, 0 not probed")
    assert "(probe pod)" in result.stdout
    assert "note: deleted the 1 probe pod netpol created" in result.stderr
    created = [r.path for r in apiserver.requests if r.method == "POST"]
    assert created == ["/api/v1/namespaces/app1-ns/configmaps", "/api/v1/namespaces/app1-ns/pods"]
    assert not [
        p for p in apiserver.objects["pods"] if p["metadata"]["name"].startswith("netpol-probe")
    ]
    assert not apiserver.objects.get("configmaps")


def test_probe_pods_are_safe_stand_ins(apiserver: FakeApiServer, tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    inner = simulated(lambda src, dst, port: False, {"busybox:1.36": TOOLS["busybox:1.36"]})

    def handler(pod: dict[str, Any], command: list[str]) -> tuple[int | None, str, str]:
        seen.append(pod)
        return inner(pod, command)

    apiserver.exec_handler = handler
    run(apiserver, tmp_path, "-n", "app1-ns", "--probe-pods")
    pod = next(p for p in seen if p["metadata"]["name"].startswith("netpol-probe"))
    meta, spec = pod["metadata"], pod["spec"]
    assert meta["ownerReferences"][0]["kind"] == "ConfigMap"
    assert meta["ownerReferences"][0]["controller"] is True
    assert "pod-template-hash" not in meta["labels"]
    assert {meta["labels"]["app"], meta["labels"]["role"]} == {"app1"} | {meta["labels"]["role"]}
    assert spec["containers"][0]["readinessProbe"]["exec"]["command"] == ["false"]
    assert spec["activeDeadlineSeconds"] == 600


def test_exec_refused_by_rbac(apiserver: FakeApiServer, tmp_path: Path) -> None:
    apiserver.forbidden.add(("create", "pods/exec"))
    result = run(apiserver, tmp_path, "-n", "app1-ns")
    assert result.stdout.splitlines()[-1].startswith("6 probes: 0 agree, 0 disagree, 6 not probed")
    assert (
        "no shell in the image (the API server refused to create pods/exec in namespace app1-ns"
        in result.stdout
    )


def test_probe_needs_a_live_cluster() -> None:
    result = CliRunner().invoke(probe, ["examples/tutorial"])
    assert (result.exit_code, result.stderr) == (
        2,
        "error: probe needs a live cluster: --kubeconfig PATH, --context NAME or --live\n",
    )


def test_an_unknown_namespace_offers_the_near_one(apiserver: FakeApiServer, tmp_path: Path) -> None:
    result = run(apiserver, tmp_path, "-n", "app1")

    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "error: -n/--namespace: no namespace 'app1' (did you mean app1-ns?)"
    )
