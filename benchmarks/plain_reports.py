"""The limit for `make bench`: one plain Python process that imports the package and produces
the same figures and tables as the report notebooks, with no kernel and no HTML export.

It runs every variant's notebooks by executing their code cells in this process (the
parameters injected as papermill would), with IPython's display replaced by a sink, so the
work done (data loading, computations, figure rendering to PNG, tables) is the same.
Prints the time per notebook and cell with --profile."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", action="store_true", help="print seconds per cell")
    args = parser.parse_args()
    import IPython.display

    from haiti_mss import paths
    from haiti_mss.render import resolve_parameters
    from haiti_mss.specs import variant_files

    sink = []
    IPython.display.display = lambda *objs, **kw: sink.extend(objs)
    notebooks = sorted(paths.NOTEBOOKS_DIR.glob("[0-9]*.ipynb"))
    total = time.perf_counter()
    for params_file in variant_files():
        values = resolve_parameters(params_file, notebooks)
        for nb_path in notebooks:
            cells = [c for c in json.loads(nb_path.read_text())["cells"] if c["cell_type"] == "code"]
            namespace: dict = {}
            started = time.perf_counter()
            for i, cell in enumerate(cells):
                source = "".join(cell["source"])
                t = time.perf_counter()
                exec(compile(source, f"{nb_path.name}[{i}]", "exec"), namespace)
                if "parameters" in cell.get("metadata", {}).get("tags", []):
                    namespace.update(values[nb_path])
                if args.profile:
                    print(f"  {params_file.stem}/{nb_path.stem} cell {i}: "
                          f"{time.perf_counter() - t:.2f} s", file=sys.stderr)
            print(f"{params_file.stem}/{nb_path.stem}: {time.perf_counter() - started:.2f} s",
                  file=sys.stderr)
    print(f"total: {time.perf_counter() - total:.2f} s ({len(sink)} outputs)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
