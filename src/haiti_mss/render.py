"""Execute report notebooks with papermill and publish each variant as one unit: its HTML
reports, table CSVs and ``summary.json`` are built in a staging folder beside it and swapped in
together, so a reader never sees a half-written, mixed or stale set.

- Temporary files live in the target folder (no cross-device rename on a Docker volume or a
  symlinked ``reports/``).
- A failed notebook keeps the variant's previous reports; the executed notebook is kept under
  ``build/failed/`` for inspection.
- SIGINT or SIGTERM stops the workers and their kernels at once, removes the staging folders
  and leaves every good report in place.
- A full disk or a read-only target gives one clear line, not a traceback.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import sys
import time
from html import escape
from pathlib import Path

from . import offline, paths, publish, specs
from .errors import ParameterError, RenderError

KERNEL_NAME = "haiti-mss"
START_TIMEOUT_S = 120
EXECUTION_TIMEOUT_S = 900
STAGING_PREFIX = ".staging-"
OLD_PREFIX = ".old-"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


_rel = specs.rel


def notebooks() -> list[Path]:
    """The report notebooks, in reading order."""
    return sorted(paths.NOTEBOOKS_DIR.glob("[0-9]*.ipynb"))


def notebook_parameters(notebook: Path) -> dict[str, dict]:
    """The parameters a notebook declares in its ``parameters`` cell: name -> type and default."""
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    if not declared:
        raise ParameterError(f"{_rel(notebook)}: no cell tagged 'parameters'")
    return {name: {"type": spec["inferred_type_name"], "default": spec["default"]}
            for name, spec in declared.items()}


def read_report_spec(params_file: Path) -> dict:
    """A variant: its title and description (params/variants.yaml) and the parameters its
    file passes to the notebooks (the file itself, flat, as ``papermill -f`` reads it)."""
    params_file = Path(params_file)
    info = specs.variant_info(params_file.stem, params_file.parent)
    parameters = specs.read_yaml(params_file)
    return {**info, "parameters": parameters}


def resolve_parameters(params_file: Path, notebooks_: list[Path]) -> dict[Path, dict]:
    """Check a variant's parameters against what its notebooks declare and the spec; return,
    per notebook, the values to inject. A key no notebook declares is an error, not
    papermill's warning."""
    spec = read_report_spec(params_file)
    where = _rel(params_file)
    declared = {nb: notebook_parameters(nb) for nb in notebooks_}
    known = set().union(*(d.keys() for d in declared.values())) if declared else set()
    unknown = set(spec["parameters"]) - known
    if unknown:
        raise ParameterError(
            f"{where}: unknown parameter(s) {', '.join(sorted(unknown))}; the notebooks declare "
            f"{', '.join(sorted(known))}")
    out = {}
    for nb, params in declared.items():
        out[nb] = {name: specs.check_parameter(where, name, spec["parameters"][name],
                                               params[name]["type"])
                   for name in params if name in spec["parameters"]}
    return out


def _scrub(nb, notebook: Path, executed_name: str) -> None:
    """Keep the executed notebook free of local paths and run-to-run noise."""
    meta = nb.metadata.setdefault("papermill", {})
    meta["input_path"] = _rel(notebook)
    meta["output_path"] = executed_name
    for key in ("start_time", "end_time", "duration"):
        meta.pop(key, None)
    for index, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        cell.metadata.get("papermill", {}).clear()
        cell["id"] = f"cell-{index}"  # papermill gives its injected cell a random id


def _drop_stderr(nb) -> list[str]:
    """Warnings printed to stderr are for developers; they go to the terminal, not the report."""
    dropped = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        keep = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                dropped.append(output.get("text", "").strip())
            else:
                keep.append(output)
        cell["outputs"] = keep
    return dropped


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is always the old file or the new one: a
    temporary file in the same folder (same filesystem), fsynced, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def export_html(nb, title: str) -> str:
    """Offline HTML of an executed notebook: code hidden, no CDN scripts, CSS comments removed."""
    from nbconvert import HTMLExporter

    nb.metadata["title"] = title
    exporter = HTMLExporter(template_name="offline",
                            extra_template_basedirs=[str(paths.TEMPLATES_DIR)],
                            exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    return offline.strip_css_comments(body)


def _with_navigation(html: str, variant: str, notebook: Path) -> str:
    """Links to the index, the neighbouring reports and the downloads, at the top and the
    bottom of the page."""
    import nbformat

    from .present import nav_bar

    siblings = sorted(set(notebooks()) | {notebook})
    titles = {nb.stem: _notebook_title(nbformat.read(str(nb), as_version=4), nb)
              for nb in siblings}
    bar = nav_bar(variant, notebook.stem, [nb.stem for nb in siblings], titles)
    import re

    from .present import report_footer

    version = re.search(r"Data version <code>([^<]+)</code>", html)
    method = re.search(r"method version <code>([^<]+)</code>", html)
    when = re.search(r"Data (?:to|as known on) <strong>([^<]+)</strong>", html)
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    footer = report_footer(title.group(1).strip() if title else titles[notebook.stem],
                           version.group(1) if version else "unknown",
                           method.group(1) if method else "unknown",
                           when.group(1) if when else "unknown",
                           cut="Data as known on" in html)
    # Which variant this is, above the page's title, so a reader who lands on one page (a
    # shared link) knows which date and force it shows.
    try:
        kicker = specs.variant_info(variant)["title"]
    except Exception:  # noqa: BLE001 - a variant outside params/ (a test) has no title
        kicker = ""
    top = f'{bar}\n<p class="mss-kicker">{escape(kicker)}</p>' if kicker else bar
    if "<main>" in html:
        html = html.replace("<main>", f"<main>\n{top}", 1)
        head, tail = html.rsplit("</main>", 1)
        html = f"{head}{bar}\n{footer}\n</main>{tail}"
    return html


def _notebook_title(nb, notebook: Path) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return notebook.stem


def render_notebook(notebook: Path, params_file: Path, out_dir: Path, *,
                    parameters: dict | None = None) -> Path:
    """Execute ``notebook`` with the variant's parameters and write, into ``out_dir``, its
    HTML, its table CSVs (``tables/<notebook>--<name>.csv``) and its part of the summary
    (``<notebook>.summary.json``). Nothing is written unless the notebook ran and its HTML is
    safe to share. Returns the HTML's path."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook, params_file, out_dir = Path(notebook), Path(params_file), Path(out_dir)
    variant = params_file.stem
    if parameters is None:
        parameters = resolve_parameters(params_file, sorted(set(notebooks()) | {notebook}))[
            notebook]
    spec = read_report_spec(params_file)
    out_dir.mkdir(parents=True, exist_ok=True)
    running = out_dir / f".{notebook.stem}.running-{os.getpid()}.ipynb"
    os.environ.pop("MPLBACKEND", None)  # the kernel inherits it and would lose inline figures
    os.environ["HAITI_MSS_RENDERING"] = "1"  # tables link CSV files written beside the report
    started = time.perf_counter()
    _say(f"[{variant}] {notebook.stem}: executing "
         f"({', '.join(f'{k}={v}' for k, v in parameters.items())})")
    try:
        nb = papermill.execute_notebook(
            str(notebook), str(running), parameters=parameters, kernel_name=KERNEL_NAME,
            cwd=str(paths.NOTEBOOKS_DIR), progress_bar=False, log_output=False,
            request_save_on_cell_execute=False,
            start_timeout=START_TIMEOUT_S, execution_timeout=EXECUTION_TIMEOUT_S,
            shutdown_kernel="immediate",
        )
    except PapermillExecutionError as exc:
        failed = paths.BUILD_DIR / "failed" / f"{variant}--{notebook.stem}.ipynb"
        cell_number = exc.cell_index + 1  # counting from 1, as a reader does
        if running.exists():
            # papermill puts an error banner cell at the top of the notebook it writes; the
            # index it reports counts without it.
            cells = [c for c in nbformat.read(str(running), as_version=4).cells
                     if "papermill-error-cell-tag" not in c.metadata.get("tags", [])]
            injected = [i for i, c in enumerate(cells)
                        if "injected-parameters" in c.metadata.get("tags", [])]
            if injected and exc.cell_index > injected[0]:
                cell_number -= 1  # the cell papermill injected is not in the source notebook
            try:
                failed.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(running), failed)
            except OSError:
                running.unlink(missing_ok=True)
        raise RenderError(
            f"{_rel(notebook)} (variant {variant}) failed in cell {cell_number} (counting from 1;"
            f" execution count {exc.exec_count}): {exc.ename}: {exc.evalue}\n"
            f"  the executed notebook is kept at {_rel(failed)}; the previous report, if any, "
            f"is untouched") from None
    except BaseException:
        running.unlink(missing_ok=True)
        raise
    running.unlink(missing_ok=True)
    executed_s = time.perf_counter() - started
    summary, tables = publish.collect(nb, notebook.stem)
    for text in _drop_stderr(nb):
        _say(f"[{variant}] {notebook.stem}: stderr (not in report): {text[:300]}")
    _scrub(nb, notebook, f"{notebook.stem}.ipynb")
    html = export_html(nb, f"{spec['title']}: {_notebook_title(nb, notebook)}")
    html = _with_navigation(html, variant, notebook)
    bad = offline.problems(html, extra_paths=(str(paths.ROOT), str(paths.data_dir())))
    if bad:
        raise RenderError(f"{_rel(notebook)} (variant {variant}): the HTML is not safe to share, "
                          f"so it was not written: " + "; ".join(bad[:10]))
    for name, text in sorted(tables.items()):
        atomic_write(out_dir / "tables" / f"{notebook.stem}--{name}.csv", text.encode("utf-8"))
    fragment = {"notebook": notebook.stem, "parameters": parameters, "figures": summary,
                "tables": sorted(f"tables/{notebook.stem}--{n}.csv" for n in tables)}
    atomic_write(out_dir / f"{notebook.stem}.summary.json",
                 json.dumps(fragment, indent=2, sort_keys=True).encode("utf-8"))
    out_html = out_dir / f"{notebook.stem}.html"
    atomic_write(out_html, html.encode("utf-8"))
    _say(f"[{variant}] {notebook.stem}: done in {time.perf_counter() - started:.1f} s "
         f"(execute {executed_s:.1f} s) -> {out_html.name} ({out_html.stat().st_size:,} bytes)")
    return out_html


def write_summary(variant_dir: Path, variant: str, notebook_stems: list[str]) -> Path:
    """Merge the notebook parts into ``summary.json`` (deterministic: sorted keys, no
    timestamps) and drop the parts."""
    from .dataset import data_version

    spec = read_report_spec(paths.PARAMS_DIR / f"{variant}.yaml")
    parts = {}
    for stem in notebook_stems:
        part = variant_dir / f"{stem}.summary.json"
        if not part.exists():
            raise RenderError(f"summary for {variant}: {stem} has not been rendered")
        parts[stem] = json.loads(part.read_text(encoding="utf-8"))
    summary = {"variant": variant, "title": spec["title"],
               "as_of": spec["parameters"].get("as_of"), "data_version": data_version(),
               "notebooks": parts}
    out = variant_dir / "summary.json"
    atomic_write(out, (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return out


def report_entries(reports_dir: Path | None = None) -> list[dict]:
    """What ``reports/index.html`` lists: each variant, its data date and its files."""
    reports_dir = reports_dir or paths.REPORTS_DIR
    entries = []
    for params_file in specs.variant_files():
        spec = read_report_spec(params_file)
        summary_path = reports_dir / params_file.stem / "summary.json"
        as_of = spec["parameters"].get("as_of")
        if summary_path.exists():
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
            snap = summary["notebooks"].get("01-contributions", {}).get("figures", {}).get(
                "snapshot", {})
            as_of = snap.get("as_of", as_of)
        files = sorted((reports_dir / params_file.stem).glob("[0-9]*.html"))
        entries.append({"variant": params_file.stem, "title": spec["title"],
                        "description": spec.get("description", ""), "as_of": as_of,
                        "files": [{"name": f.name, "href": f"{params_file.stem}/{f.name}",
                                   "bytes": f.stat().st_size, "title": _html_title(f)}
                                  for f in files]})
    return entries


def _html_title(path: Path) -> str:
    import re

    match = re.search(r"<title>(.*?)</title>", path.read_text(encoding="utf-8"), re.S)
    return match.group(1).split(": ", 1)[-1] if match else path.stem


def write_index(out: Path, data_version: str) -> Path:
    """Write ``reports/index.html``: every variant with its data date and links."""
    from . import narrative
    from .dataset import load_dataset
    from .present import index_page
    from .resolve import resolve_on

    story = narrative.index_story(resolve_on(load_dataset(), "latest"))
    page = index_page(report_entries(reports_dir=out.parent), data_version, story)
    bad = offline.problems(page, extra_paths=(str(paths.ROOT),))
    if bad:
        raise RenderError("reports/index.html would not be safe to share: " + "; ".join(bad))
    atomic_write(out, page.encode("utf-8"))
    _say(f"index: {_rel(out)} lists "
         f"{sum(len(e['files']) for e in report_entries(out.parent))} report(s)")
    return out


# ---------------------------------------------------------------------------------------------
# Rendering every variant: only what is out of date, on every core, published per variant


def shared_inputs() -> list[Path]:
    """What every rendered report depends on: the data, the scenarios, the package (code,
    templates) and the lock of installed packages."""
    data = paths.data_dir()
    found = [*sorted(data.glob("*.csv")), paths.schema_path(data), data / "README.md",
             *sorted(paths.SCENARIOS_DIR.glob("*.yaml")), paths.ROOT / "requirements.txt",
             specs.variants_file()]
    found += [p for p in sorted(paths.PACKAGE_DIR.rglob("*"))
              if p.suffix in (".py", ".j2", ".json", ".css")]
    return [p for p in found if p.exists()]


def stale_reports(reports_dir: Path | None = None) -> dict[str, list[Path]]:
    """Per variant, the notebooks whose report is missing or older than its inputs."""
    reports_dir = reports_dir or paths.REPORTS_DIR
    shared = max(p.stat().st_mtime_ns for p in shared_inputs())  # once, not per report
    out = {}
    for params_file in specs.variant_files():
        todo = []
        for nb in notebooks():
            page = reports_dir / params_file.stem / f"{nb.stem}.html"
            newest = max(shared, nb.stat().st_mtime_ns, params_file.stat().st_mtime_ns)
            if not page.exists() or page.stat().st_mtime_ns < newest:
                todo.append(nb)
        if todo or not (reports_dir / params_file.stem / "summary.json").exists():
            out[params_file.stem] = todo
    return out


def recover(reports_dir: Path) -> None:
    """Clean up after an interrupted run: a variant caught between the two renames of a swap
    gets its previous folder back; staging folders and temporary files go."""
    if not reports_dir.exists():
        return
    for old in reports_dir.glob(f"{OLD_PREFIX}*"):
        variant = old.name[len(OLD_PREFIX):].rsplit(".", 1)[0]
        target = reports_dir / variant
        if not target.exists():
            os.replace(old, target)
        else:
            shutil.rmtree(old, ignore_errors=True)
    for staging in reports_dir.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(staging, ignore_errors=True)
    for tmp in reports_dir.rglob(".*.tmp"):
        tmp.unlink(missing_ok=True)
    for running in reports_dir.rglob(".*.running-*.ipynb"):
        running.unlink(missing_ok=True)


def _stage(reports_dir: Path, variant: str, rerender: list[Path]) -> Path:
    """A staging folder for ``variant`` holding the current files of every notebook that is
    not re-rendered (their HTML, tables and summary parts), mtimes kept."""
    staging = reports_dir / f"{STAGING_PREFIX}{variant}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    current = reports_dir / variant
    summary = {}
    if (current / "summary.json").exists():
        summary = json.loads((current / "summary.json").read_text(encoding="utf-8"))
    redo = {nb.stem for nb in rerender}
    for nb in notebooks():
        if nb.stem in redo:
            continue
        page = current / f"{nb.stem}.html"
        part = summary.get("notebooks", {}).get(nb.stem)
        if not page.exists() or part is None:
            raise RenderError(f"internal: {variant}/{nb.stem} should be re-rendered")
        shutil.copy2(page, staging / page.name)
        (staging / "tables").mkdir(exist_ok=True)
        for table in part.get("tables", []):
            shutil.copy2(current / table, staging / table)
        (staging / f"{nb.stem}.summary.json").write_text(
            json.dumps(part, indent=2, sort_keys=True), encoding="utf-8")
    return staging


def _swap(reports_dir: Path, variant: str, staging: Path) -> None:
    """Replace the variant's folder by the staging folder: two renames on one filesystem; an
    interruption between them is repaired by :func:`recover` on the next run."""
    target = reports_dir / variant
    old = reports_dir / f"{OLD_PREFIX}{variant}.{os.getpid()}"
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def _render_job(job):
    """Run in a worker process: render one report into its staging folder; return an error
    message or None."""
    notebook, params_file, out_dir, parameters = job
    try:
        render_notebook(notebook, params_file, out_dir, parameters=parameters)
    except (ParameterError, RenderError) as exc:
        return str(exc)
    except OSError as exc:
        return _disk_message(exc, out_dir)
    except RuntimeError as exc:
        # The kernel did not start or died (a machine out of memory or overloaded): one line,
        # no traceback; the previous report stays.
        return (f"{_rel(notebook)}: the Jupyter kernel failed ({exc}); the previous report, "
                f"if any, is untouched. Run `make report` again, or `make report JOBS=1` on a "
                f"busy machine.")
    return None


def _disk_message(exc: OSError, where: Path) -> str:
    reason = {errno.ENOSPC: "the disk is full", errno.EROFS: "the filesystem is read-only",
              errno.EACCES: "permission denied", errno.EDQUOT: "the disk quota is exceeded"}.get(
        exc.errno, exc.strerror or str(exc))
    return (f"cannot write {_rel(where)}: {reason}; the previous reports are untouched")


def _worker_init():
    # A worker dies with its parent's interrupt handling, never by itself half-way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _kill_tree(pids) -> None:
    """Stop worker processes and every process they started (the kernels run in sessions of
    their own, so a signal to our process group does not reach them)."""
    import psutil

    procs = []
    for pid in pids:
        try:
            parent = psutil.Process(pid)
        except psutil.NoSuchProcess:
            continue
        procs += parent.children(recursive=True) + [parent]
    for proc in procs:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=1)


class _Interrupted(Exception):
    pass


def render_all(jobs: int | None = None) -> int:
    """Render every stale report with ``jobs`` worker processes (default: one per core),
    publish each variant whose reports all rendered, then write reports/index.html. Every
    variant's parameters are checked before anything runs. Returns the number of failed
    reports."""
    from concurrent.futures import ProcessPoolExecutor

    from .dataset import data_version

    reports_dir = paths.REPORTS_DIR
    nbs = notebooks()
    variants = specs.variant_files()
    resolved = {v.stem: resolve_parameters(v, nbs) for v in variants}  # fail before running
    try:
        reports_dir.mkdir(parents=True, exist_ok=True)
        recover(reports_dir)
        todo = stale_reports(reports_dir)
    except OSError as exc:
        raise RenderError(_disk_message(exc, reports_dir)) from None
    n_jobs = sum(len(v) for v in todo.values())
    _say(f"render: {n_jobs} of {len(variants) * len(nbs)} report(s) to render"
         + (f" on {jobs or os.cpu_count()} worker(s)" if n_jobs else ", all up to date"))
    failures: list[str] = []
    staged: dict[str, Path] = {}
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def interrupted(signum, frame):
        raise _Interrupted(signal.Signals(signum).name)

    pool = None
    try:
        for sig in previous:
            signal.signal(sig, interrupted)
        try:
            for variant, rerender in todo.items():
                staged[variant] = _stage(reports_dir, variant, rerender)
        except OSError as exc:
            raise RenderError(_disk_message(exc, reports_dir)) from None
        work = [(nb, paths.PARAMS_DIR / f"{variant}.yaml", staged[variant],
                 resolved[variant][nb]) for variant, rerender in todo.items() for nb in rerender]
        work.sort(key=lambda j: ("model" not in j[0].stem, j[0].stem, j[1].stem))
        failed_variants = set()
        if work:
            workers = max(1, min(jobs or os.cpu_count() or 1, len(work)))
            pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init)
            for job, message in zip(work, pool.map(_render_job, work), strict=True):
                if message:
                    failures.append(message)
                    failed_variants.add(job[1].stem)
                    _say(f"error: {message}")
            pool.shutdown()
            pool = None
        for variant, staging in staged.items():
            if variant in failed_variants:
                shutil.rmtree(staging, ignore_errors=True)
                continue
            try:
                write_summary(staging, variant, [nb.stem for nb in nbs])
                for part in staging.glob("*.summary.json"):
                    part.unlink()
                _swap(reports_dir, variant, staging)
            except OSError as exc:
                shutil.rmtree(staging, ignore_errors=True)
                raise RenderError(_disk_message(exc, reports_dir / variant)) from None
            _say(f"[{variant}] published: {_rel(reports_dir / variant)}")
        # A variant whose parameter file is gone leaves the reports and the index.
        names = {v.stem for v in variants}
        for folder in reports_dir.iterdir():
            if folder.is_dir() and not folder.name.startswith(".") and folder.name not in names \
                    and (folder / "summary.json").exists():
                shutil.rmtree(folder)
                _say(f"render: removed {_rel(folder)} (its variant no longer exists)")
        if failures:
            _say(f"render: {len(failures)} report(s) failed; the previous versions are "
                 f"untouched")
            return len(failures)
        try:
            from .present import data_package_zip

            downloads = reports_dir / "data"
            data_package_zip(downloads / "haiti-mss-data.zip")
            atomic_write(downloads / "summary.schema.json",
                         (paths.PACKAGE_DIR / "schemas" / "summary.schema.json").read_bytes())
            write_index(reports_dir / "index.html", data_version())
        except OSError as exc:
            raise RenderError(_disk_message(exc, reports_dir / "index.html")) from None
        return 0
    except (_Interrupted, KeyboardInterrupt) as exc:
        if pool is not None:
            _kill_tree(list(pool._processes))  # noqa: SLF001 - the pool offers no kill
            pool.shutdown(wait=False, cancel_futures=True)
        for staging in staged.values():
            shutil.rmtree(staging, ignore_errors=True)
        recover(reports_dir)
        name = exc.args[0] if exc.args else "SIGINT"
        raise KeyboardInterrupt(name) from None
    finally:
        for staging in staged.values():  # published ones were renamed away already
            shutil.rmtree(staging, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
