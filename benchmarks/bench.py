"""`make bench`: speed and memory, measured (never asserted in tests).

Sections:
- model: the shortfall model's throughput, 100,000 draws x 48 months on one core, median of
  several runs in a fresh process, with peak memory, against the same model as a per-draw
  Python loop (timed on a sample of draws and scaled linearly, which the table says);
- reports: the full `make report` against the common practice (one papermill and one
  nbconvert CLI process per report, sequentially) and against the limit (one plain Python
  process producing the same figures and tables, no kernel, no HTML); the no-op `make report`;
  report sizes.

Prints a table and writes reports/bench/bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ONE_CORE = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

MODEL_PROBE = r"""
import json, resource, statistics, sys, time
sys.path.insert(0, "benchmarks")
import haiti_mss as mss
from haiti_mss import analysis, model
from model_loop import simulate_loop
draws, months, runs, loop_draws = (int(a) for a in sys.argv[1:5])
ds = mss.load_dataset()
scenario = dict(analysis.load_scenario("mss-observed"), months=months)
state = mss.resolve_on(ds, "latest")
setting = analysis.build_setting(state, scenario)
table = analysis.parameter_table(state.view, scenario)
p = analysis.with_derived(analysis.sample_parameters(table, draws, 1), setting)
shocks = model.draw_shocks(draws, len(setting.pledges), 1)
times = []
for _ in range(runs):
    t = time.perf_counter(); model.simulate(setting, p, shocks); times.append(time.perf_counter() - t)
few = {k: v[:loop_draws] for k, v in p.items()}
few_shocks = {k: v[:loop_draws] for k, v in shocks.items()}
t = time.perf_counter(); simulate_loop(setting, few, few_shocks); loop_s = time.perf_counter() - t
print(json.dumps({"times": times, "loop_seconds": loop_s,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def bench_model(draws=100_000, months=48, runs=5, loop_draws=2_000) -> dict:
    env = {**os.environ, **ONE_CORE, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(["taskset", "-c", "0", PY, "-c", MODEL_PROBE, str(draws), str(months),
                          str(runs), str(loop_draws)], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    median = statistics.median(r["times"])
    loop_full = r["loop_seconds"] * draws / loop_draws
    return {"draws": draws, "months": months, "runs": runs,
            "vectorized_median_s": round(median, 3), "vectorized_first_s": round(r["times"][0], 3),
            "vectorized_all_s": [round(x, 3) for x in r["times"]],
            "draw_months_per_s": round(draws * months / median),
            "loop_draws_timed": loop_draws, "loop_seconds_timed": round(r["loop_seconds"], 3),
            "loop_s_scaled_to_all_draws": round(loop_full, 1),
            "speedup_vs_loop": round(loop_full / median, 1),
            "peak_rss_mb": round(r["peak_rss_mb"], 1), "target_s": 2.0,
            "meets_target": median < 2.0}


def _time(cmd, env=None, cwd=ROOT) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - t


def bench_reports(runs=3) -> dict:
    """Full report render vs common practice vs the limit; the no-op make; sizes."""
    sys.path.insert(0, str(ROOT / "src"))
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS")}
    env["PYTHONPATH"] = str(ROOT / "src")
    bindir = Path(PY).parent
    full, practice, limit = [], [], []
    for _ in range(runs):
        subprocess.run(["make", "clean"], cwd=ROOT, env=env, check=True, capture_output=True)
        full.append(_time(["make", "report"], env))
    noop = [_time(["make", "report"], env) for _ in range(5)]
    import yaml  # noqa: F401  (installed with papermill)

    notebooks = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    from haiti_mss.specs import variant_files

    variants = variant_files()
    scratch = ROOT / "build" / "bench-practice"
    from haiti_mss.render import resolve_parameters

    for _ in range(runs):
        t = time.perf_counter()
        for variant in variants:
            values = resolve_parameters(variant, notebooks)
            for nb in notebooks:
                out = scratch / variant.stem / f"{nb.stem}.ipynb"
                out.parent.mkdir(parents=True, exist_ok=True)
                args = [str(bindir / "papermill"), "--no-progress-bar", "--log-level", "WARNING",
                        "-k", "haiti-mss", "--cwd", str(ROOT / "notebooks"), str(nb), str(out)]
                for key, value in values[nb].items():
                    args += ["-r" if isinstance(value, str) else "-p", key, str(value)]
                subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True)
                subprocess.run([str(bindir / "jupyter"), "nbconvert", "--log-level", "ERROR",
                                "--to", "html", "--no-input", str(out)], cwd=ROOT, env=env,
                               check=True, capture_output=True)
        practice.append(time.perf_counter() - t)
    for _ in range(runs):
        limit.append(_time([PY, str(ROOT / "benchmarks" / "plain_reports.py")], env))
    sizes = {str(p.relative_to(ROOT)): p.stat().st_size
             for p in sorted((ROOT / "reports").rglob("*")) if p.is_file() and "bench" not in p.parts}
    med = statistics.median
    return {"make_report_s": round(med(full), 2), "make_report_runs": [round(x, 2) for x in full],
            "common_practice_s": round(med(practice), 2), "limit_plain_python_s": round(med(limit), 2),
            "speedup_vs_common_practice": round(med(practice) / med(full), 2),
            "ratio_to_limit": round(med(full) / med(limit), 2),
            "noop_make_report_s": round(med(noop), 3), "noop_runs": [round(x, 3) for x in noop],
            "notebooks": len(notebooks), "variants": len(variants), "file_sizes": sizes}


def machine() -> dict:
    return {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "system": platform.platform()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["model", "reports"])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    result = {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if args.only in (None, "model"):
        print("model: 100,000 draws x 48 months, one core ...", file=sys.stderr, flush=True)
        result["model"] = bench_model()
    if args.only in (None, "reports") and (ROOT / "benchmarks" / "plain_reports.py").exists():
        print("reports: make report vs common practice vs plain Python ...", file=sys.stderr,
              flush=True)
        result["reports"] = bench_reports(runs=args.runs)
    out = ROOT / "reports" / "bench" / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    for section in ("model", "reports"):  # a partial run keeps the other section's numbers
        if section not in result and section in previous:
            result[section] = previous[section]
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    rows = table_rows(result)
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    update_readme(result, rows)
    print(f"\nwritten: {out.relative_to(ROOT)} and the README's performance table")
    return 0


def update_readme(result: dict, rows) -> None:
    """Put the latest table in the README's performance section, with the machine it ran on."""
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start not in text or end not in text:
        return
    m = result["machine"]
    table = [f"Run {result['when']} on {m['cores']} cores ({m['cpu']}), Python {m['python']}.",
             "", "| measure | value |", "| --- | --- |"]
    table += [f"| {k} | {v} |" for k, v in rows if k != "machine"]
    block = start + "\n" + "\n".join(table) + "\n" + end
    text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    readme.write_text(text, encoding="utf-8")


def table_rows(result: dict) -> list[tuple[str, str]]:
    rows = [("machine", f"{result['machine']['cores']} cores, Python {result['machine']['python']}")]
    m = result.get("model")
    if m:
        rows += [
            (f"model, 100k draws x 48 months (median of {m['runs']})", f"{m['vectorized_median_s']} s"),
            ("model, first run in a fresh process", f"{m['vectorized_first_s']} s"),
            ("model throughput", f"{m['draw_months_per_s']:,} draw-months/s"),
            (f"per-draw Python loop (scaled from {m['loop_draws_timed']} draws)",
             f"{m['loop_s_scaled_to_all_draws']} s"),
            ("speed-up over the loop", f"{m['speedup_vs_loop']}x"),
            ("peak memory (model process)", f"{m['peak_rss_mb']} MB"),
            ("target < 2 s", "met" if m["meets_target"] else "NOT met"),
        ]
    r = result.get("reports")
    if r:
        rows += [
            (f"make report, {r['variants']} variants x {r['notebooks']} notebooks, on every core",
             f"{r['make_report_s']} s"),
            ("common practice (papermill + nbconvert CLI per report)", f"{r['common_practice_s']} s"),
            ("limit (plain Python, same figures and tables)", f"{r['limit_plain_python_s']} s"),
            ("speed-up over common practice (target >= 2.5x)", f"{r['speedup_vs_common_practice']}x"),
            ("ratio to the limit (target <= 2x)", f"{r['ratio_to_limit']}x"),
            ("no-op make report (target < 0.3 s)", f"{r['noop_make_report_s']} s"),
        ]
        sizes = r["file_sizes"]
        rows += [(f"size of {name}", f"{size:,} B") for name, size in sizes.items()
                 if name.endswith((".html", "summary.json"))]
        csvs = [size for name, size in sizes.items() if name.endswith(".csv")]
        rows.append((f"table CSVs ({len(csvs)} files)", f"{sum(csvs):,} B in all"))
    return rows


if __name__ == "__main__":
    sys.exit(main())
