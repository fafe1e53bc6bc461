"""Claims the README and the house rules make about the repository, checked."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from haiti_mss import paths

README = (paths.ROOT / "README.md").read_text(encoding="utf-8")


def test_every_path_in_the_readme_layout_exists():
    block = README.split("## Layout", 1)[1].split("```")[1]
    names = [line.split()[0] for line in block.splitlines() if line and not line.startswith(" ")]
    assert len(names) >= 12
    for name in names:
        if name in ("reports/", "build/"):
            continue  # build output
        assert (paths.ROOT / name.rstrip("/")).exists(), name


def test_every_make_target_is_documented():
    help_text = subprocess.run(["make"], cwd=paths.ROOT, capture_output=True, text=True).stdout
    targets = re.findall(r"make (\w+)", help_text)
    layout_line = next(line for line in README.splitlines() if line.startswith("Makefile"))
    for target in targets:
        if target != "help":
            assert target in layout_line, target


def _committed_notebooks():
    """(name, text) of every notebook as git holds it (the index, so a notebook saved with
    outputs in JupyterLab and stripped by the nbstripout filter passes); the working tree when
    this is not a git checkout."""
    import subprocess

    try:
        listed = subprocess.run(["git", "ls-files", "notebooks/*.ipynb"], cwd=paths.ROOT,
                                capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        listed = []
    if not listed:
        return [(p.name, p.read_text(encoding="utf-8"))
                for p in sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb"))]
    return [(name, subprocess.run(["git", "show", f":{name}"], cwd=paths.ROOT,
                                  capture_output=True, text=True, check=True).stdout)
            for name in listed]


def test_notebooks_are_committed_without_outputs():
    found = _committed_notebooks()
    assert any(name.endswith("explore.ipynb") for name, _ in found)
    for name, text in found:
        nb = json.loads(text)
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs") and not cell.get("execution_count"), name
        if Path(name).name[0].isdigit():  # a report notebook: papermill's parameters cell
            tags = [c.get("metadata", {}).get("tags", []) for c in nb["cells"]]
            assert sum("parameters" in t for t in tags) == 1, name


def test_requirements_is_a_full_lock():
    lines = [line.strip() for line in (paths.ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert len(lines) > 100
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[^\s]+", line) for line in lines), \
        [line for line in lines if "==" not in line]
    direct = [line.split("#")[0].strip() for line in (paths.ROOT / "requirements.in").read_text().splitlines()]
    pinned = {line.split("==")[0].lower() for line in lines}
    for requirement in filter(None, direct):
        name = re.split(r"[<>=!;\[ ]", requirement)[0].lower()
        assert name in pinned, name


def test_ci_runs_make_test():
    assert "make test" in (paths.ROOT / ".ci" / "run").read_text()
