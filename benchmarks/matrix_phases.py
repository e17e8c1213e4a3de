"""Where a `matrix` command's CPU goes, phase by phase, in one process: load, the class
matrix, the view, the writer, and the door every printed character goes through.

Usage: python3 benchmarks/matrix_phases.py PATH [--by namespace] [--formats json,table]
       [--pod-cidr CIDR]

Each phase is CPU seconds (``time.process_time``) of the same steps ``netpol matrix``
takes; the input is loaded and the class matrix computed once, then each format gets a
fresh view, so the formats can be compared on one cluster. What a whole command adds is
the interpreter's start (~0.3 s of imports); benchmarks/verbs.py measures that too.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))


def main() -> None:
    from netpol.cli.matrix_cmd import TABLE_LIMIT
    from netpol.cli.terminal import SafeStream
    from netpol.engine.compile import compile_cluster
    from netpol.engine.matrix import class_matrix
    from netpol.engine.views import MatrixView
    from netpol.model.options import Options
    from netpol.render.matrix import (
        matrix_csv,
        matrix_json,
        matrix_markdown,
        truth_tables,
        wide,
    )
    from netpol.validate.pipeline import load_cluster

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    parser.add_argument("--by", default="namespace")
    parser.add_argument("--formats", default="table,wide,json,csv,md")
    parser.add_argument("--pod-cidr", default="10.244.0.0/16")
    args = parser.parse_args()
    clock = time.process_time
    options = Options(pod_cidr=args.pod_cidr)
    started = clock()
    result = load_cluster([args.path], options)
    if not result.ok:
        raise SystemExit(f"input invalid: {result.errors[0].one_line()}")
    loaded = clock()
    matrix = class_matrix(compile_cluster(result.cluster, options))
    computed = clock()
    print(f"load={loaded - started:.2f}  class_matrix={computed - loaded:.2f}  (CPU s)")
    writers = {
        # past TABLE_LIMIT endpoints the command writes the wide list instead
        "table": lambda view: (
            truth_tables(view) if len(view.endpoints) <= TABLE_LIMIT else wide(view, None, False)
        ),
        "wide": lambda view: wide(view, None, False),
        "json": lambda view: matrix_json(view, options.profile.name, None, False),
        "csv": lambda view: matrix_csv(view, None, False),
        "md": lambda view: matrix_markdown(view, None, False),
    }
    with open(os.devnull, "w", encoding="utf-8") as sink:
        door = SafeStream(sink)
        for output in args.formats.split(","):
            begun = clock()
            view = MatrixView(matrix, args.by)
            viewed = clock()
            text = writers[output](view)
            written = clock()
            door.write(text + "\n")
            door.flush()
            printed = clock()
            print(
                f"--by {args.by} -o {output}: view={viewed - begun:.2f} "
                f"write={written - viewed:.2f} print={printed - written:.2f} "
                f"({len(text) / 2**20:.1f} MiB)"
            )


if __name__ == "__main__":
    main()
