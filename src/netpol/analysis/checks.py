"""The whole lint catalogue: importing this module registers every check, in doc order."""

from __future__ import annotations

from netpol.analysis import lint_checks, lint_tiers
from netpol.analysis.lint import CHECKS, by_id

REGISTERED_BY = (lint_checks, lint_tiers)

__all__ = ["CHECKS", "REGISTERED_BY", "by_id"]
