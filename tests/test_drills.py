"""Failure drills on a tiny report set in a temporary folder (papermill's style: small
notebooks named for the behaviour they exercise): interrupted and concurrent runs, failing
cells, broken parameters, a read-only or full target, a target on another filesystem, stale and
orphaned output, determinism. A good report is never lost, mixed or half-written, and every
failure says clearly what went wrong. Nothing here writes into the checkout."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from haiti_mss import offline, paths

TINY = Path(__file__).parent / "fixtures" / "tiny"
pytestmark = pytest.mark.drill


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _env(root: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    env.update({"HAITI_MSS_NOTEBOOKS_DIR": str(root / "notebooks"),
                "HAITI_MSS_PARAMS_DIR": str(root / "params"),
                "HAITI_MSS_REPORTS_DIR": str(root / "reports"),
                "HAITI_MSS_BUILD_DIR": str(root / "build"),
                "PYTHONPATH": str(paths.ROOT / "src")})
    return env


@pytest.fixture
def fresh_site(tmp_path):
    """A tiny report set, not rendered yet: notebooks, variants, reports and build in tmp_path."""
    for name in ("notebooks", "params"):
        shutil.copytree(TINY / name, tmp_path / name)
    return tmp_path, _env(tmp_path)


@pytest.fixture(scope="module")
def rendered_tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny-rendered")
    for name in ("notebooks", "params"):
        shutil.copytree(TINY / name, root / name)
    result = _render((root, _env(root)))
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def site(rendered_tiny, tmp_path):
    """A private copy of the rendered tiny report set (mtimes kept, so it is up to date)."""
    target = tmp_path / "site"
    shutil.copytree(rendered_tiny, target)
    return target, _env(target)


def _render(site, *args, timeout=300) -> subprocess.CompletedProcess:
    root, env = site
    return subprocess.run([sys.executable, "-m", "haiti_mss", "render-all", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def _assert_whole(reports: Path, before: dict[str, str], killed: bool = False) -> None:
    """Every variant is its previous complete set or a new complete one, never mixed. After a
    SIGKILL a hidden staging folder may stay behind (nothing can clean up after a kill); the
    next run removes it."""
    # reports/data holds the downloads shared by every variant (data zip, summary schema)
    for variant in sorted(p for p in reports.iterdir() if p.is_dir() and p.name != "data"):
        if killed and variant.name.startswith(".staging-"):
            continue
        assert not variant.name.startswith("."), f"left over: {variant.name}"
        files = _digest(variant)
        old = {k[len(variant.name) + 1:]: v for k, v in before.items()
               if k.startswith(variant.name + "/")}
        if old:
            assert files == old or all(k not in old or files[k] != old[k]
                                       for k in files if k.endswith(".html")), variant
        summary = json.loads((variant / "summary.json").read_text(encoding="utf-8"))
        for page in variant.glob("*.html"):
            html = page.read_text(encoding="utf-8")
            assert html.rstrip().endswith("</html>"), f"{page} is cut off"
            assert offline.problems(html) == [], page
        for part in summary["notebooks"].values():
            for table in part["tables"]:
                assert (variant / table).exists(), table
    assert killed or not [p for p in reports.rglob("*") if p.name.endswith(".tmp")]


def test_a_clean_render_publishes_every_variant_and_the_index(fresh_site):
    result = _render(fresh_site)
    assert result.returncode == 0, result.stderr
    reports = fresh_site[0] / "reports"
    assert {p.name for p in reports.iterdir()} == {"one", "two", "data", "index.html"}
    assert {p.name for p in (reports / "data").iterdir()} == {"haiti-mss-data.zip",
                                                              "summary.schema.json"}
    for variant in ("one", "two"):
        assert (reports / variant / "tables" / "01-quick--numbers.csv").exists()
        assert {p.name for p in (reports / variant).glob("*.html")} == {"01-quick.html",
                                                                          "02-sleepy.html"}
    _assert_whole(reports, {})


def test_a_second_render_with_the_same_inputs_is_byte_identical(site):
    before = _digest(site[0] / "reports")
    for params in (site[0] / "params").glob("*.yaml"):
        params.touch()
    assert _render(site).returncode == 0
    assert _digest(site[0] / "reports") == before


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_stops_the_run_and_its_kernels_within_two_seconds(site, sig):
    root, env = site
    before = _digest(root / "reports")
    pid_file = root / "kernel.pids"
    (root / "params" / "one.yaml").write_text(
        f'as_of: "2024-09-30"\nlabel: "one"\nmission: MSS\nsleep_s: 30.0\n'
        f'pid_file: "{pid_file}"\n', encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "haiti_mss", "render-all"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not pid_file.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    if not pid_file.exists():
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the sleepy kernel never started:\n{err[-3000:]}")
    kernel = int(pid_file.read_text().split()[0])
    sent = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    stopped = time.monotonic() - sent
    assert proc.returncode == 130, err
    assert stopped < 2.0, f"took {stopped:.1f} s to stop"
    time.sleep(0.2)
    assert not psutil.pid_exists(kernel) or psutil.Process(kernel).status() == "zombie"
    assert "Traceback" not in err and "interrupted" in err
    _assert_whole(root / "reports", before)
    assert _digest(root / "reports") == before  # nothing changed: the good reports stay


def test_a_killed_run_is_recovered_by_the_next(site):
    root, env = site
    before = _digest(root / "reports")
    (root / "params" / "one.yaml").write_text(
        'as_of: "2024-09-30"\nlabel: "one"\nmission: MSS\nsleep_s: 30.0\n', encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "haiti_mss", "render-all"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    time.sleep(4)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    for kernel in psutil.process_iter(["cmdline"]):
        if str(root) in " ".join(kernel.info["cmdline"] or []):
            kernel.kill()
    _assert_whole(root / "reports", before, killed=True)
    (root / "params" / "one.yaml").write_text(
        'as_of: "2024-09-30"\nlabel: "one"\nmission: MSS\n', encoding="utf-8")
    again = _render(site)
    assert again.returncode == 0, again.stderr
    assert not [p for p in (root / "reports").iterdir() if p.name.startswith(".")]
    _assert_whole(root / "reports", {})


def test_a_swap_caught_half_way_gets_its_previous_reports_back(site):
    root, _ = site
    reports = root / "reports"
    os.replace(reports / "one", reports / ".old-one.12345")  # killed between the renames
    (reports / ".staging-two.999").mkdir()
    from haiti_mss.render import recover

    recover(reports)
    assert (reports / "one" / "summary.json").exists()
    assert not [p for p in reports.iterdir() if p.name.startswith(".")]


def test_a_failing_cell_names_the_cell_and_keeps_the_variants_reports(site):
    root, _ = site
    before = _digest(root / "reports")
    nb = json.loads((root / "notebooks" / "01-quick.ipynb").read_text())
    nb["cells"].insert(2, {"cell_type": "code", "id": "boom", "metadata": {}, "outputs": [],
                           "execution_count": None, "source": ["raise ValueError('planted')"]})
    (root / "notebooks" / "01-quick.ipynb").write_text(json.dumps(nb))
    result = _render(site)
    assert result.returncode == 2
    assert "01-quick.ipynb (variant one) failed in cell 3 (counting from 1" in result.stderr
    assert "ValueError: planted" in result.stderr and "Traceback" not in result.stderr
    assert list((root / "build" / "failed").glob("*--01-quick.ipynb"))
    assert _digest(root / "reports") == before  # neither variant was half-replaced


@pytest.mark.parametrize("text,words", [
    ('as_of: "2024-09-30"\nlabel: "x"\nmision: MSS\n', "unknown parameter(s) mision"),
    ('as_of: "2024-13-01"\nlabel: "x"\n', "'as_of' = '2024-13-01'; expected a date"),
    ('as_of: "2099-01-01"\n', "is in the future"),
    ('as_of: latest\nmission: MSSS\n', "'mission' = 'MSSS'; expected one of MSS, GSF, current"),
    ('as_of: latest\nlabel: [1, 2]\n', "'label' = [1, 2]; expected a str"),
    ('as_of: latest\nlabel: "a\u202eb"\n', "direction-override"),
    ('[1, 2]\n', "expected a mapping"),
    ('as_of: [\n', "cannot be read as YAML"),
])
def test_a_bad_parameter_file_is_refused_before_anything_is_written(site, text, words):
    root, _ = site
    before = _digest(root / "reports")
    (root / "params" / "one.yaml").write_text(text, encoding="utf-8")
    result = _render(site)
    assert result.returncode == 2
    assert "params/one.yaml" in result.stderr or "one.yaml" in result.stderr
    assert words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert _digest(root / "reports") == before


@pytest.mark.parametrize("name,words", [("...", "not a slug"), ("Bad Name", "not a slug"),
                                        ("three", "no entry for the variant 'three'")])
def test_a_variant_needs_a_safe_name_and_an_entry(fresh_site, name, words):
    site = fresh_site
    root, _ = site
    (root / "params" / f"{name}.yaml").write_text('as_of: latest\n', encoding="utf-8")
    result = _render(site)
    assert result.returncode == 2 and words in result.stderr, result.stderr
    assert not (root / "reports").exists() or not list((root / "reports").iterdir())


def test_a_deleted_variant_leaves_the_reports_and_the_index(site):
    root, _ = site
    (root / "params" / "two.yaml").unlink()
    assert _render(site).returncode == 0
    reports = root / "reports"
    assert not (reports / "two").exists()
    assert 'href="two/' not in (reports / "index.html").read_text(encoding="utf-8")


def test_an_orphaned_table_goes_with_its_report(site):
    root, _ = site
    orphan = root / "reports" / "one" / "tables" / "01-quick--gone.csv"
    orphan.write_text("a\n1\n")
    (root / "notebooks" / "01-quick.ipynb").touch()
    assert _render(site).returncode == 0
    assert not orphan.exists()


def test_reports_on_another_filesystem_render(fresh_site, tmp_path_factory):
    """reports/ as a symlink into /dev/shm (a tmpfs): every rename stays inside it."""
    site = fresh_site
    root, env = site
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(root).st_dev:
        pytest.skip("no second filesystem to test on")
    target = Path(tmp_path_factory.mktemp("x").name)
    elsewhere = shm / f"haiti-mss-{os.getpid()}-{target.name}"
    elsewhere.mkdir()
    try:
        (root / "reports").symlink_to(elsewhere)
        result = _render(site)
        assert result.returncode == 0, result.stderr
        assert (elsewhere / "one" / "01-quick.html").exists()
    finally:
        shutil.rmtree(elsewhere, ignore_errors=True)


def test_a_read_only_target_gives_one_clear_line(site):
    root, env = site
    before = _digest(root / "reports")
    (root / "notebooks" / "01-quick.ipynb").touch()
    if os.geteuid() == 0:
        pytest.skip("root writes through read-only permissions; the full-disk test covers it")
    (root / "reports").chmod(0o555)
    try:
        result = _render(site)
    finally:
        (root / "reports").chmod(0o755)
    assert result.returncode == 2
    assert "cannot write reports" in result.stderr and "Traceback" not in result.stderr
    assert _digest(root / "reports") == before


def test_a_full_disk_gives_one_clear_line_and_keeps_the_reports(site, monkeypatch):
    root, env = site
    before = _digest(root / "reports")
    (root / "notebooks" / "01-quick.ipynb").touch()
    code = ("import errno, sys, haiti_mss.render as r\n"
            "def full(*a, **k): raise OSError(errno.ENOSPC, 'No space left on device')\n"
            "r.write_summary = full\n"
            "from haiti_mss.cli import main\nsys.exit(main(['render-all', '--jobs', '1']))\n")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "the disk is full; the previous reports are untouched" in result.stderr
    assert "Traceback" not in result.stderr
    assert _digest(root / "reports") == before
    assert errno.ENOSPC  # the drill simulates the error the kernel would give


def test_the_lock_and_the_renderer_inputs_are_in_the_staleness_check():
    from haiti_mss.render import shared_inputs

    names = {p.name for p in shared_inputs()}
    assert {"requirements.txt", "variants.yaml", "README.md", "datapackage.json"} <= names
    assert "requirements.txt" in (paths.ROOT / "Makefile").read_text().split(
        "$(REPORTS)/index.html:", 1)[1].split("\n", 1)[0]


def test_two_runs_at_once_one_refuses_clearly(fresh_site):
    """make report holds a lock: a second run refuses at once and says why."""
    root, env = fresh_site
    (root / "params" / "one.yaml").write_text(
        'as_of: "2024-09-30"\nlabel: "one"\nmission: MSS\nsleep_s: 8.0\n', encoding="utf-8")
    lock = root / "build" / "report.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    make_env = dict(env)
    first = subprocess.Popen(["make", "-s", "-C", str(paths.ROOT), "report"], env=make_env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    second = subprocess.run(["make", "-s", "-C", str(paths.ROOT), "report"], env=make_env,
                            capture_output=True, text=True, timeout=60)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]
    assert second.returncode != 0
    assert "another make report is running" in second.stderr
