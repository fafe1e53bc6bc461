"""Execute a report notebook with papermill and write one self-contained, offline HTML file.

A report is written atomically (temporary file, then rename), only after its HTML passes the
offline check, so a failed or interrupted run never leaves a half-written file and never
replaces a good report. A failed notebook is kept under ``build/failed/`` for inspection.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import yaml

from . import offline, paths, publish
from .errors import ParameterError, RenderError

KERNEL_NAME = "haiti-mss"
START_TIMEOUT_S = 120
EXECUTION_TIMEOUT_S = 900
REPORT_KEYS = {"title", "description", "parameters"}


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _rel(path: Path) -> str:
    path = Path(path).resolve()
    return path.relative_to(paths.ROOT).as_posix() if path.is_relative_to(paths.ROOT) else path.name


def notebook_parameters(notebook: Path) -> dict[str, dict]:
    """The parameters a notebook declares in its ``parameters`` cell: name -> type and default."""
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    if not declared:
        raise ParameterError(f"{_rel(notebook)}: no cell tagged 'parameters'")
    return {name: {"type": spec["inferred_type_name"], "default": spec["default"]}
            for name, spec in declared.items()}


class _TextDatesLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay text, and are checked as such (PyYAML
    would otherwise crash on 2024-13-01 before we could say which key is wrong)."""


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_report_spec(params_file: Path) -> dict:
    """A report variant's YAML: title, description and the parameters passed to notebooks."""
    params_file = Path(params_file)
    try:
        spec = yaml.load(params_file.read_text(encoding="utf-8"), Loader=_TextDatesLoader) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as exc:
        raise ParameterError(f"{_rel(params_file)}: cannot be read as YAML ({exc})") from None
    if not isinstance(spec, dict):
        raise ParameterError(f"{_rel(params_file)}: expected a mapping of keys to values")
    unknown = set(spec) - REPORT_KEYS
    if unknown:
        raise ParameterError(
            f"{_rel(params_file)}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"expected only {', '.join(sorted(REPORT_KEYS))}")
    for key in ("title", "parameters"):
        if key not in spec:
            raise ParameterError(f"{_rel(params_file)}: missing key '{key}'")
    if not isinstance(spec["parameters"], dict):
        raise ParameterError(f"{_rel(params_file)}: 'parameters' must be a mapping")
    return spec


def _check_value(name: str, value, declared_type: str, where: str):
    """Coerce a YAML value to what the notebook declares, or raise a clear error."""
    if isinstance(value, dt.date):
        value = value.isoformat()  # YAML reads 2024-09-30 as a date; notebooks take ISO text
    expected = {"str": str, "int": int, "float": (int, float), "bool": bool}.get(declared_type)
    if expected and (not isinstance(value, expected) or
                     (declared_type == "int" and isinstance(value, bool))):
        raise ParameterError(f"{where}: parameter '{name}' = {value!r}; expected a {declared_type}")
    if (name == "as_of" and value != "latest") or name.endswith("_date"):
        try:
            parsed = dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            raise ParameterError(
                f"{where}: parameter '{name}' = {value!r}; expected a date as YYYY-MM-DD"
                + (" or 'latest'" if name == "as_of" else "")) from None
        if parsed > dt.date.today():
            raise ParameterError(f"{where}: parameter '{name}' = {value!r} is in the future")
    if name == "scenario":
        from .model import scenario_names

        if value not in scenario_names():
            raise ParameterError(f"{where}: parameter 'scenario' = {value!r}; expected one of "
                                 f"{', '.join(scenario_names())}")
    return value


def resolve_parameters(params_file: Path, notebooks: list[Path]) -> dict[Path, dict]:
    """Check a variant's parameters against what its notebooks declare; return, per notebook,
    the values to inject. A key no notebook declares is an error, not papermill's warning."""
    spec = read_report_spec(params_file)
    where = _rel(params_file)
    declared = {nb: notebook_parameters(nb) for nb in notebooks}
    known = set().union(*(d.keys() for d in declared.values())) if declared else set()
    unknown = set(spec["parameters"]) - known
    if unknown:
        raise ParameterError(
            f"{where}: unknown parameter(s) {', '.join(sorted(unknown))}; the notebooks declare "
            f"{', '.join(sorted(known))}")
    out = {}
    for nb, params in declared.items():
        out[nb] = {name: _check_value(name, spec["parameters"][name], params[name]["type"], where)
                   for name in params if name in spec["parameters"]}
    return out


def _scrub(nb, notebook: Path, executed: Path) -> None:
    """Keep the executed notebook free of local paths and run-to-run noise."""
    meta = nb.metadata.setdefault("papermill", {})
    meta["input_path"] = _rel(notebook)
    meta["output_path"] = _rel(executed)
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


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is always either the old file or the new one:
    write a temporary file under build/tmp (never under reports/), then rename it over the
    target. A killed run leaves at most a stray file in build/tmp."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = paths.BUILD_DIR / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"{path.name}.{os.getpid()}.{time.monotonic_ns()}"
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


def render_notebook(notebook: Path, params_file: Path, out_html: Path, *,
                    parameters: dict | None = None) -> Path:
    """Execute ``notebook`` with the variant's parameters and write ``out_html``."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook, params_file, out_html = Path(notebook), Path(params_file), Path(out_html)
    variant = params_file.stem
    if parameters is None:
        # A key is unknown only if no report notebook declares it.
        siblings = sorted(set(paths.NOTEBOOKS_DIR.glob("[0-9]*.ipynb")) | {notebook})
        parameters = resolve_parameters(params_file, siblings)[notebook]
    spec = read_report_spec(params_file)
    executed = paths.BUILD_DIR / variant / f"{notebook.stem}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    running = executed.with_name(f".{executed.stem}.running-{os.getpid()}.ipynb")
    os.environ.pop("MPLBACKEND", None)  # the kernel inherits it and would lose inline figures
    started = time.perf_counter()
    _say(f"[{variant}] {notebook.stem}: executing ({', '.join(f'{k}={v}' for k, v in parameters.items())})")
    try:
        nb = papermill.execute_notebook(
            str(notebook), str(running), parameters=parameters, kernel_name=KERNEL_NAME,
            cwd=str(paths.NOTEBOOKS_DIR), progress_bar=False, log_output=False,
            # Saving after every cell rewrites the whole notebook (figures included) each time;
            # papermill still writes it once at the end, and on failure.
            request_save_on_cell_execute=False,
            start_timeout=START_TIMEOUT_S, execution_timeout=EXECUTION_TIMEOUT_S,
            shutdown_kernel="immediate",
        )
    except PapermillExecutionError as exc:
        failed = paths.BUILD_DIR / "failed" / f"{variant}--{notebook.stem}.ipynb"
        failed.parent.mkdir(parents=True, exist_ok=True)
        cell_number = exc.cell_index + 1  # counting from 1, as a reader does
        if running.exists():
            injected = [i for i, c in enumerate(nbformat.read(str(running), as_version=4).cells)
                        if "injected-parameters" in c.metadata.get("tags", [])]
            if injected and exc.cell_index > injected[0]:
                cell_number -= 1  # the cell papermill injected is not in the source notebook
            os.replace(running, failed)
        raise RenderError(
            f"{_rel(notebook)} (variant {variant}) failed in cell {cell_number} (counting from 1;"
            f" execution count {exc.exec_count}): {exc.ename}: {exc.evalue}\n"
            f"  the executed notebook is kept at {_rel(failed)}; the previous report, if any, "
            f"is untouched") from None
    except BaseException:
        running.unlink(missing_ok=True)
        raise
    executed_s = time.perf_counter() - started
    summary, tables = publish.collect(nb, notebook.stem)
    for text in _drop_stderr(nb):
        _say(f"[{variant}] {notebook.stem}: stderr (not in report): {text[:300]}")
    _scrub(nb, notebook, executed)
    nbformat.write(nb, str(running))
    os.replace(running, executed)
    html = export_html(nb, f"{spec['title']}: {_notebook_title(nb, notebook)}")
    bad = offline.problems(html, extra_paths=(str(paths.ROOT), str(paths.data_dir())))
    if bad:
        raise RenderError(f"{_rel(notebook)} (variant {variant}): the HTML is not safe to share, "
                          f"so it was not written: " + "; ".join(bad[:10]))
    for name, text in sorted(tables.items()):
        _atomic_write(out_html.parent / "tables" / f"{notebook.stem}--{name}.csv",
                      text.encode("utf-8"))
    fragment = {"notebook": notebook.stem, "parameters": parameters, "figures": summary,
                "tables": sorted(f"tables/{notebook.stem}--{n}.csv" for n in tables)}
    _atomic_write(summary_fragment_path(variant, notebook.stem),
                  json.dumps(fragment, indent=2, sort_keys=True).encode("utf-8"))
    _atomic_write(out_html, html.encode("utf-8"))
    _say(f"[{variant}] {notebook.stem}: done in {time.perf_counter() - started:.1f} s "
         f"(execute {executed_s:.1f} s) -> {_rel(out_html)} ({out_html.stat().st_size:,} bytes)")
    return out_html


def _notebook_title(nb, notebook: Path) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return notebook.stem


def summary_fragment_path(variant: str, notebook_stem: str) -> Path:
    """Where a rendered notebook leaves its headline figures for the variant's summary."""
    return paths.BUILD_DIR / variant / f"{notebook_stem}.summary.json"


def write_summary(params_file: Path, out: Path, notebooks: list[Path] | None = None) -> Path:
    """Merge the variant's notebook fragments into ``summary.json`` (deterministic: sorted
    keys, no timestamps), next to the variant's reports."""
    from .dataset import data_version

    spec = read_report_spec(params_file)
    variant = Path(params_file).stem
    notebooks = notebooks or sorted(paths.NOTEBOOKS_DIR.glob("[0-9]*.ipynb"))
    parts = {}
    for nb in notebooks:
        fragment = summary_fragment_path(variant, nb.stem)
        if not fragment.exists():
            raise RenderError(f"summary for {variant}: {nb.stem} has not been rendered")
        parts[nb.stem] = json.loads(fragment.read_text(encoding="utf-8"))
    summary = {"variant": variant, "title": spec["title"],
               "as_of": spec["parameters"].get("as_of"), "data_version": data_version(),
               "notebooks": parts}
    _atomic_write(out, (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    _say(f"[{variant}] summary: {_rel(out)}")
    return out


def report_entries(params_dir: Path | None = None, reports_dir: Path | None = None) -> list[dict]:
    """What ``reports/index.html`` lists: each variant, its as-of date and its rendered files."""
    params_dir = params_dir or paths.PARAMS_DIR
    reports_dir = reports_dir or paths.REPORTS_DIR
    entries = []
    for params_file in sorted(params_dir.glob("*.yaml")):
        spec = read_report_spec(params_file)
        as_of = spec["parameters"].get("as_of")
        files = sorted((reports_dir / params_file.stem).glob("*.html"))
        entries.append({"variant": params_file.stem, "title": spec["title"],
                        "description": spec.get("description", ""),
                        "as_of": as_of.isoformat() if isinstance(as_of, dt.date) else as_of,
                        "files": [{"name": f.name, "href": f"{params_file.stem}/{f.name}",
                                   "bytes": f.stat().st_size,
                                   "title": _html_title(f)} for f in files]})
    return entries


def _html_title(path: Path) -> str:
    import re

    match = re.search(r"<title>(.*?)</title>", path.read_text(encoding="utf-8"), re.S)
    return match.group(1).split(": ", 1)[-1] if match else path.stem


def write_index(out: Path, data_version: str) -> Path:
    """Write ``reports/index.html``: every variant with its as-of date and links to its reports."""
    from html import escape

    entries = report_entries(reports_dir=out.parent)
    items = []
    for e in entries:
        links = "".join(
            f'<li><a href="{escape(f["href"])}">{escape(f["title"])}</a> '
            f'<span class="meta">({f["bytes"] / 1024:,.0f} KB)</span></li>' for f in e["files"])
        items.append(
            f'<section><h2>{escape(e["title"])}</h2>'
            f'<p class="meta">Data as of {escape(str(e["as_of"] or "all data"))} · variant '
            f'<code>{escape(e["variant"])}</code></p><p>{escape(e["description"])}</p>'
            f'<ul>{links or "<li>not rendered yet</li>"}</ul></section>')
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Haiti MSS reports</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1a202c; }}
h1 {{ font-size: 1.6rem; }} h2 {{ font-size: 1.2rem; margin-bottom: 0.2rem; }}
.meta {{ color: #555; font-size: 0.9rem; }} section {{ border-top: 1px solid #ddd; padding-top: 0.5rem; }}
</style></head><body>
<h1>The Kenya-led Multinational Security Support mission in Haiti: reports</h1>
<p>Who pledged what, who delivered what and when, the funding gap, and what the deployment
shortfall cost. Every number is computed from the sourced dataset (data version
<code>{escape(data_version)}</code>); each report works offline.</p>
{''.join(items)}
</body></html>
"""
    bad = offline.problems(page, extra_paths=(str(paths.ROOT),))
    if bad:
        raise RenderError("reports/index.html would not be safe to share: " + "; ".join(bad))
    _atomic_write(out, page.encode("utf-8"))
    _say(f"index: {_rel(out)} lists {sum(len(e['files']) for e in entries)} report(s)")
    return out


# ---------------------------------------------------------------------------------------------
# Rendering every variant: only what is out of date, on every core


def shared_inputs() -> list[Path]:
    """What every rendered report depends on: the data, the scenarios and the package (code,
    templates). A report is also stale when its own notebook or parameter file is newer."""
    data = paths.data_dir()
    found = [*sorted(data.glob("*.csv")), paths.schema_path(data),
             *sorted(paths.SCENARIOS_DIR.glob("*.yaml"))]
    return found + [p for p in sorted(paths.PACKAGE_DIR.rglob("*"))
                    if p.suffix in (".py", ".j2", ".json", ".css")]


def stale_reports(reports_dir: Path | None = None) -> list[tuple[Path, Path, Path]]:
    """(notebook, params file, output) for every report that is missing or older than its
    inputs, slowest notebooks first so that parallel workers finish together."""
    reports_dir = reports_dir or paths.REPORTS_DIR
    notebooks = sorted(paths.NOTEBOOKS_DIR.glob("[0-9]*.ipynb"))
    shared = max(p.stat().st_mtime_ns for p in shared_inputs())  # once, not per report
    jobs = []
    for params_file in sorted(paths.PARAMS_DIR.glob("*.yaml")):
        for nb in notebooks:
            out = reports_dir / params_file.stem / f"{nb.stem}.html"
            newest = max(shared, nb.stat().st_mtime_ns, params_file.stat().st_mtime_ns)
            if not out.exists() or out.stat().st_mtime_ns < newest:
                jobs.append((nb, params_file, out))
    return sorted(jobs, key=lambda j: ("model" not in j[0].stem, j[0].stem, j[1].stem))


def _render_job(job):
    """Run in a worker process: render one report; return an error message or None."""
    notebook, params_file, out, parameters = job
    try:
        render_notebook(notebook, params_file, out, parameters=parameters)
    except (ParameterError, RenderError) as exc:
        return str(exc)
    return None


def render_all(jobs: int | None = None) -> int:
    """Render every stale report with ``jobs`` worker processes (default: one per core), then
    each changed variant's summary.json and reports/index.html. Every variant's parameters
    are checked before anything runs. Returns the number of failed reports (the index is
    only rewritten when none failed)."""
    from concurrent.futures import ProcessPoolExecutor

    from .dataset import data_version

    notebooks = sorted(paths.NOTEBOOKS_DIR.glob("[0-9]*.ipynb"))
    variants = sorted(paths.PARAMS_DIR.glob("*.yaml"))
    resolved = {v: resolve_parameters(v, notebooks) for v in variants}  # fail before running
    todo = stale_reports()
    _say(f"render: {len(todo)} of {len(variants) * len(notebooks)} report(s) to render"
         + (f" on {jobs or os.cpu_count()} worker(s)" if todo else ", all up to date"))
    failures = []
    if todo:
        work = [(nb, v, out, resolved[v][nb]) for nb, v, out in todo]
        workers = max(1, min(jobs or os.cpu_count() or 1, len(work)))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for message in pool.map(_render_job, work):
                if message:
                    failures.append(message)
                    _say(f"error: {message}")
    for v in variants:
        summary = paths.REPORTS_DIR / v.stem / "summary.json"
        pages = [paths.REPORTS_DIR / v.stem / f"{nb.stem}.html" for nb in notebooks]
        if all(p.exists() for p in pages) and (not summary.exists() or any(
                p.stat().st_mtime_ns > summary.stat().st_mtime_ns for p in pages)):
            write_summary(v, summary, notebooks)
    if failures:
        _say(f"render: {len(failures)} report(s) failed; the previous versions are untouched")
        return len(failures)
    write_index(paths.REPORTS_DIR / "index.html", data_version())
    return 0
