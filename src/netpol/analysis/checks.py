"""The whole lint catalogue: importing this module registers every check, in doc order."""

from __future__ import annotations

from netpol.analysis.lint import CHECKS, by_id
from netpol.analysis.lint_checks import FAMILIES

REGISTERED_BY = FAMILIES

__all__ = ["CHECKS", "REGISTERED_BY", "by_id"]
