"""``kubectl exec`` through the official client's websocket (v5/v4.channel.k8s.io).

Each call uses its own ApiClient: the client's ``stream`` swaps a method on the ApiClient
for the duration of a call, which is not safe to share between threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from netpol.load import jsontext
from netpol.load.live.client import Connection, client_module
from netpol.load.live.listing import MAX_MESSAGE, RBAC_DOC, server_text

ERROR_CHANNEL = 3


@dataclass(frozen=True, slots=True)
class ExecResult:
    """How an exec ended: ``code`` None when the command could not run (``error`` says why)."""

    code: int | None
    stdout: str = ""
    stderr: str = ""
    error: str = ""


class KubeExecutor:
    """Runs commands in a live cluster's pods (netpol.analysis.probe_exec.Executor)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def run(
        self, namespace: str, pod: str, container: str | None, argv: Sequence[str], timeout: float
    ) -> ExecResult:
        client = client_module()
        from kubernetes.client.exceptions import ApiException
        from kubernetes.stream import stream

        api = client.CoreV1Api(client.ApiClient(self.conn.api.configuration))
        kwargs: dict[str, Any] = {
            "command": list(argv),
            "stderr": True,
            "stdin": False,
            "stdout": True,
            "tty": False,
            "_preload_content": False,
        }
        if container:
            kwargs["container"] = container
        try:
            ws = stream(api.connect_get_namespaced_pod_exec, pod, namespace, **kwargs)
        except ApiException as exc:
            return self._failed(_handshake_error(namespace, pod, exc))
        try:
            ws.run_forever(timeout=timeout)
            if ws.is_open():
                return ExecResult(None, error=f"no answer within {timeout:g}s")
            stdout = ws.read_stdout() or ""
            stderr = ws.read_stderr() or ""
            status = ws.read_channel(ERROR_CHANNEL) or ""
        except Exception as exc:  # websocket, socket or TLS: a broken stream is a result
            return self._failed(f"exec stream broke: {exc}")
        finally:
            ws.close()
        code, error = _exit(status)
        return ExecResult(code, stdout, stderr, server_text(self.conn, error, MAX_MESSAGE))

    def _failed(self, error: str) -> ExecResult:
        """The command did not run: why, as safe to print as any server text."""
        return ExecResult(None, error=server_text(self.conn, error, MAX_MESSAGE))


def _exit(status: str) -> tuple[int | None, str]:
    """The exit code from the exec's Status (error channel), or None and why it did not run."""
    if not status.strip():
        return 0, ""
    try:
        data = jsontext.loads(status)
    except ValueError:
        return None, status.strip()
    if not isinstance(data, dict):
        return None, status.strip()
    if data.get("status") == "Success":
        return 0, ""
    for cause in (data.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            try:
                return int(cause.get("message")), ""
            except (TypeError, ValueError):
                break
    return None, str(data.get("message") or "exec failed")


def _handshake_error(namespace: str, pod: str, exc: Any) -> str:
    reason = str(getattr(exc, "reason", "") or exc)
    if "403" in reason.split("-+-+-")[0]:
        return (
            f"the API server refused to create pods/exec in namespace {namespace} for {pod} "
            f"(403 Forbidden); probes need create on pods/exec ({RBAC_DOC})"
        )
    if "404" in reason.split("-+-+-")[0]:
        return f'pod "{pod}" not found in namespace {namespace} (404)'
    return " ".join(reason.split("-+-+-")[0].split())
