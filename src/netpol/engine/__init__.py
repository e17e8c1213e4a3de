"""Selectors, connection sets, policy compilation, verdicts, explanations and the matrix."""
