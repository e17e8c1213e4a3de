"""The loader and the engine say how far they got through the Progress they are given,
and compute the same with or without one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from netpol.engine.compile import compile_cluster
from netpol.engine.matrix import class_matrix
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

TUTORIAL = Path(__file__).resolve().parents[2] / "src" / "netpol" / "examples" / "tutorial"


class Recorder:
    def __init__(self) -> None:
        self.phases: list[tuple[str, int, int]] = []  # (name, total, steps advanced)

    def phase(self, name: str, total: int = 0) -> None:
        self.phases.append((name, total, 0))

    def advance(self, steps: int = 1) -> None:
        name, total, done = self.phases[-1]
        self.phases[-1] = (name, total, done + steps)


def test_loading_and_the_matrix_report_each_phase_and_every_step() -> None:
    recorder = Recorder()
    options = Options()
    result = load_cluster([str(TUTORIAL)], options, progress=recorder)
    cc = compile_cluster(result.cluster, options)
    matrix = class_matrix(cc, progress=recorder)
    files = len(list(TUTORIAL.glob("*.yaml")))
    policies = len(cc.policies)
    classes = len(matrix.classes)
    assert recorder.phases == [
        ("reading files", 0, 0),
        ("reading files", files, files),
        ("checking objects", recorder.phases[2][1], recorder.phases[2][1]),
        ("building the cluster", 0, 0),
        ("building classes", 0, 0),
        (f"computing the matrix of {classes:,} classes, policy", policies, policies),
        ("combining egress and ingress", 0, 0),
    ]
    assert recorder.phases[2][1] > files  # a file holds several objects
    assert np.array_equal(class_matrix(cc).ids, matrix.ids)
