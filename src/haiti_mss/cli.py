"""Command line: ``python -m haiti_mss {validate,snapshot,render,index}``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .errors import HaitiMSSError


def _validate(args) -> int:
    from . import paths, validation
    from .dataset import data_version

    data_dir = Path(args.data_dir) if args.data_dir else paths.data_dir()
    validation.validate(data_dir)
    if not args.data_dir:
        validation.remember_valid(data_dir, data_version(data_dir))
    print("data/: all tables valid", file=sys.stderr)
    return 0


def _snapshot(args) -> int:
    from .snapshots import snapshot

    head = snapshot(args.as_of).headline()
    if args.format == "json":
        print(json.dumps(head, indent=2, ensure_ascii=False))
        return 0
    print(f"As of {head['as_of']} (data to {head['data_date']}, version {head['data_version']}); "
          f"mission in force: {head['current_mission'] or 'none yet'}")
    for mission, m in head["missions"].items():
        line = (f"\n{mission} ({m['status']}): on the ground {m['total_deployed']:,} "
                f"({m['total_basis']}; contributors add up to {m['sum_of_contributors']:,}), "
                f"pledged {m['total_pledged']:,}")
        if m.get("handed_over"):
            line += f"; handed over {m['handed_over']['total']:,} to {m['handed_over']['to']} " \
                    f"on {m['handed_over']['date']}"
        print(line)
        for c in m["contributors"]:
            on = c["deployed_at_end"] if m["status"] == "ended" else c["deployed"]
            print(f"  {c['iso3']}  {'at the end' if m['status'] == 'ended' else 'deployed'} "
                  f"{on or 0:>6,}  pledged {c['pledged'] or 0:>6,}  {c['name']}")
    return 0


def _render(args) -> int:
    from .render import render_notebook

    render_notebook(Path(args.notebook), Path(args.params), Path(args.out))
    return 0


def _render_all(args) -> int:
    from .render import render_all

    return 2 if render_all(args.jobs) else 0


def _dictionary(args) -> int:
    from .dataset import dictionary_markdown

    print(dictionary_markdown())
    return 0


def _readme(args) -> int:
    """Rebuild the generated sections of data/README.md (data dictionary, known gaps)."""
    from . import paths
    from .dataset import readme_with_generated_sections

    path = paths.data_dir() / "README.md"
    text = readme_with_generated_sections()
    if args.check:
        if path.read_text(encoding="utf-8") != text:
            print("data/README.md is out of date: run `python -m haiti_mss readme`",
                  file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print("data/README.md: dictionary and known gaps rebuilt", file=sys.stderr)
    return 0


def _kernel(args) -> int:
    """Register the project kernel: the venv's Python, kernel log messages (such as the
    TCP-without-encryption notice on loopback) kept out of the terminal. In the venv (default)
    also configure nbconvert: the offline template usable by name (``--template offline``)
    and outputs written to build/nbconvert/, never beside the notebooks. ``--user`` installs
    the kernel where a Jupyter outside the venv finds it."""
    import json
    import sys

    from jupyter_core.paths import jupyter_data_dir

    from . import paths
    from .render import KERNEL_NAME

    base = Path(jupyter_data_dir()) if args.user else Path(sys.prefix) / "share" / "jupyter"
    folder = base / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher",
                     "-f", "{connection_file}", "--IPKernelApp.log_level=ERROR"],
            "display_name": "Python (haiti-mss)", "language": "python",
            "metadata": {"debugger": True}}
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    if not args.user:
        config = Path(sys.prefix) / "etc" / "jupyter"
        config.mkdir(parents=True, exist_ok=True)
        (config / "jupyter_nbconvert_config.py").write_text(
            "# Written by `python -m haiti_mss kernel` (make's set-up step).\n"
            "c = get_config()  # noqa: F821\n"
            f"c.TemplateExporter.extra_template_basedirs = [{str(paths.TEMPLATES_DIR)!r}]\n"
            f"c.FilesWriter.build_directory = {str(paths.ROOT / 'build' / 'nbconvert')!r}\n",
            encoding="utf-8")
    print(f"kernel {KERNEL_NAME!r} registered in {folder}", file=sys.stderr)
    return 0


def _index(args) -> int:
    from .dataset import data_version
    from .render import write_index

    write_index(Path(args.out), data_version())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m haiti_mss", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="check every table in data/; list all problems")
    p.add_argument("--data-dir", help="validate another copy of the data")
    p.set_defaults(func=_validate)
    p = sub.add_parser("snapshot", help="headline figures as reported by a date")
    p.add_argument("--as-of", required=True,
                   help="YYYY-MM-DD, or latest (the date of the newest fact in the data)")
    p.add_argument("--format", choices=["json", "text"], default="text")
    p.set_defaults(func=_snapshot)
    p = sub.add_parser("render", help="execute one notebook for one variant, write its HTML, "
                       "tables and summary part into a folder")
    p.add_argument("notebook")
    p.add_argument("params")
    p.add_argument("out", help="the folder to write into")
    p.set_defaults(func=_render)
    p = sub.add_parser("render-all", help="render every stale report on every core, then the "
                       "summaries and reports/index.html")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    p.set_defaults(func=_render_all)
    p = sub.add_parser("dictionary", help="print the data dictionary (Markdown) from the schema")
    p.set_defaults(func=_dictionary)
    p = sub.add_parser("readme", help="rebuild the data dictionary and known gaps in "
                       "data/README.md from the schema and gaps.csv")
    p.add_argument("--check", action="store_true", help="only report whether it is up to date")
    p.set_defaults(func=_readme)
    p = sub.add_parser("kernel", help="register the haiti-mss Jupyter kernel in this environment")
    p.add_argument("--user", action="store_true",
                   help="register it for the user, so a Jupyter outside .venv can use it")
    p.set_defaults(func=_kernel)
    p = sub.add_parser("index", help="write reports/index.html")
    p.add_argument("out")
    p.set_defaults(func=_index)
    args = parser.parse_args(argv)
    if args.command == "snapshot" and args.as_of != "latest":
        import datetime as dt

        try:
            dt.date.fromisoformat(args.as_of)
        except ValueError:
            parser.error(f"--as-of {args.as_of!r}: expected a date as YYYY-MM-DD")
    try:
        return args.func(args)
    except HaitiMSSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        what = exc.args[0] if exc.args else "SIGINT"
        print(f"interrupted ({what}): workers and kernels stopped; every report is the previous "
              f"good one or a complete new one", file=sys.stderr, flush=True)
        if args.command == "render-all":
            os._exit(130)  # do not wait for the killed pool's threads at interpreter exit
        return 130
