"""The tutorial's checks as data: what it types in each pod (Step 3, Step 5) and expects.

Each check is ``telnet HOST PORT`` from a workload's pod, by the name the tutorial uses, so
it exercises the pod's DNS (and its DNS egress policy), the Service DNAT and the policies.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Expectation:
    source: str  # NAMESPACE/WORKLOAD
    host: str
    port: int
    connects: bool
    why: str

    @property
    def command(self) -> str:
        return f"telnet {self.host} {self.port}"


def _db_host(db_namespace: str) -> str:
    return f"db-sts-0.db-svc.{db_namespace}.svc.cluster.local"


def step3(app: str = "app1-ns", db: str = "app1-ns") -> list[Expectation]:
    """Step 3: before any policy, everyone can talk to everyone."""
    frontend, backend, database = f"{app}/frontend-deploy", f"{app}/backend-deploy", f"{db}/db-sts"
    db_svc = "db-svc" if db == app else f"db-svc.{db}"
    return [
        Expectation(frontend, "backend-svc", 5678, True, "frontend reaches backend"),
        Expectation(frontend, db_svc, 3306, True, "frontend reaches the database (too open)"),
        Expectation(frontend, _db_host(db), 3306, True, "frontend reaches db-sts-0 by name"),
        Expectation(backend, "frontend-svc", 80, True, "backend reaches frontend (too open)"),
        Expectation(backend, _db_host(db), 3306, True, "backend reaches db-sts-0"),
        Expectation(
            database, _svc(app, db, "backend-svc"), 5678, True, "db reaches backend (too open)"
        ),
        Expectation(
            database, _svc(app, db, "frontend-svc"), 80, True, "db reaches frontend (too open)"
        ),
    ]


def step5(app: str = "app1-ns", db: str = "app1-ns") -> list[Expectation]:
    """Step 5: least privilege, as the tutorial states it."""
    frontend, backend, database = f"{app}/frontend-deploy", f"{app}/backend-deploy", f"{db}/db-sts"
    return [
        Expectation(
            database, _svc(app, db, "frontend-svc"), 80, False, "db must not initiate to frontend"
        ),
        Expectation(
            database, _svc(app, db, "backend-svc"), 5678, False, "db must not initiate to backend"
        ),
        Expectation(backend, _db_host(db), 3306, True, "backend talks to the database"),
        Expectation(backend, "frontend-svc", 80, False, "backend must not initiate to frontend"),
        Expectation(frontend, "backend-svc", 5678, True, "frontend talks to backend"),
        Expectation(frontend, _db_host(db), 3306, False, "frontend must not reach the database"),
    ]


def _svc(app: str, db: str, name: str) -> str:
    """How a pod in the database's namespace names an app Service."""
    return name if app == db else f"{name}.{app}"
