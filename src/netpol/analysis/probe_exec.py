"""Running probes inside containers with whatever the image has, behind an ``Executor``.

``Executor.run`` is ``kubectl exec POD -- ARGV``; the Kubernetes one (websocket exec) is
``netpol.load.live.exec.KubeExecutor``, which the tests drive against a local API server. A
source pod's tools are found once (python3, nc, bash with timeout, busybox); then each
connect is one exec, with bounded concurrency and a timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from netpol.analysis.probe import ProbeCase, ProbeResult
from netpol.load.live.exec import ExecResult

# In order of preference: python reports refused and timed out apart; nc and bash do not.
TOOLS = ("python3", "python", "nc", "bash", "busybox")
DETECT = (
    "for t in python3 python nc bash busybox timeout; do "
    "command -v $t >/dev/null 2>&1 && echo $t; done; true"
)
_PYTHON_CONNECT = (
    "import socket,sys\n"
    "try:\n"
    " socket.create_connection((sys.argv[1],int(sys.argv[2])),float(sys.argv[3])).close()\n"
    "except socket.timeout:\n"
    " sys.exit(3)\n"
    "except ConnectionRefusedError:\n"
    " sys.exit(4)\n"
    "except OSError:\n"
    " sys.exit(5)\n"
)


class Executor(Protocol):
    def run(
        self, namespace: str, pod: str, container: str | None, argv: Sequence[str], timeout: float
    ) -> ExecResult:
        """Run ``argv`` in the pod's container (the first when None); never raises for the
        command's own failure, which is the result."""
        ...


@dataclass(frozen=True, slots=True)
class Toolbox:
    """What a pod's container can connect with, or why it cannot."""

    tool: str | None
    has_timeout: bool = False
    problem: str = ""


def find_tools(executor: Executor, namespace: str, pod: str, timeout: float) -> Toolbox:
    """The best connect tool in the pod's first container (one exec of ``sh -c``)."""
    result = executor.run(namespace, pod, None, ["sh", "-c", DETECT], timeout)
    if result.code != 0:
        why = result.error or result.stderr.strip() or f"sh exited {result.code}"
        return Toolbox(None, problem=f"no shell in the image ({_short(why)})")
    found = set(result.stdout.split())
    has_timeout = "timeout" in found
    for tool in TOOLS:
        if tool in found and (tool != "bash" or has_timeout):
            return Toolbox(tool, has_timeout)
    return Toolbox(None, problem="no python3, nc, bash with timeout, or busybox in the image")


def connect_argv(tool: str, ip: str, port: int, timeout: float) -> list[str]:
    """The command that connects to ``ip``:``port`` with ``tool``; exit 0 means connected."""
    seconds = f"{max(timeout, 1):g}"
    if tool in ("python3", "python"):
        return [tool, "-c", _PYTHON_CONNECT, ip, str(port), seconds]
    if tool == "nc":
        return ["nc", "-z", "-w", seconds, ip, str(port)]
    if tool == "busybox":
        return ["busybox", "nc", "-z", "-w", seconds, ip, str(port)]
    if tool == "bash":
        return ["timeout", seconds, "bash", "-c", 'exec 3<>"/dev/tcp/$0/$1"', ip, str(port)]
    raise ValueError(f"unknown probe tool {tool!r}")


def judge(tool: str, result: ExecResult) -> tuple[bool | None, str]:
    """(connected?, what happened) from the connect command's exit."""
    if result.code is None:
        return None, f"exec failed: {_short(result.error or result.stderr)}"
    if result.code == 0:
        return True, "connected"
    if tool in ("python3", "python"):
        return False, {3: "timed out", 4: "refused", 5: "unreachable"}.get(
            result.code, f"failed (exit {result.code})"
        )
    if tool == "bash" and result.code == 124:
        return False, "timed out"
    return False, f"failed (exit {result.code})"


@dataclass(frozen=True, slots=True)
class Runner:
    """Probes run through ``executor``, ``concurrency`` at a time, ``timeout`` s each."""

    executor: Executor
    concurrency: int = 8
    timeout: float = 3.0

    def toolboxes(self, pods: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Toolbox]:
        """The tools of each (namespace, pod), found concurrently."""
        keys = sorted(set(pods))
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            found = pool.map(
                lambda key: find_tools(self.executor, key[0], key[1], self.timeout + 5), keys
            )
            return dict(zip(keys, found, strict=True))

    def run(
        self,
        cases: Sequence[ProbeCase],
        toolboxes: dict[tuple[str, str], Toolbox],
        done: Callable[[int], None] | None = None,
    ) -> list[ProbeResult]:
        """Every case, in order; a case whose source has no tool is not probed."""

        def one(case: ProbeCase) -> ProbeResult:
            box = toolboxes.get((case.src.namespace, case.src.name)) or Toolbox(None, problem="?")
            if box.tool is None:
                return ProbeResult(case, None, box.problem)
            argv = connect_argv(box.tool, case.dst_ip, case.port, self.timeout)
            # The exec itself gets slack over the connect timeout for the round trip.
            result = self.executor.run(
                case.src.namespace, case.src.name, None, argv, self.timeout + 10
            )
            observed, detail = judge(box.tool, result)
            return ProbeResult(case, observed, f"{detail} ({box.tool})")

        results: list[ProbeResult] = []
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            for result in pool.map(one, cases):
                results.append(result)
                if done is not None:
                    done(len(results))
        return results


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
