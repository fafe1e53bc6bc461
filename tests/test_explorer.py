"""The JupyterLab explorer: its callbacks, driven as a user moves the widgets, and the
notebook executed headless."""

from __future__ import annotations

import pytest

from haiti_mss import paths
from haiti_mss.snapshots import snapshot


@pytest.fixture(scope="module")
def explorer(dataset):
    from haiti_mss.explorer import Explorer

    return Explorer(dataset, n_prior=3000)


def test_picking_a_date_shows_what_was_known_then(explorer, dataset):
    explorer.mission.value = "MSS"
    explorer.date.value = "2024-09-30"
    want = snapshot("2024-09-30", dataset).headline()["missions"]["MSS"]
    assert explorer.shown == {"as_of": "2024-09-30", "mission": "MSS",
                              "total": want["total_deployed"], "pledged": want["total_pledged"]}
    assert "30 September 2024" in explorer.summary.value
    assert "trust fund" in explorer.money.value


def test_a_mission_that_did_not_exist_yet_says_so(explorer):
    explorer.date.value = "2024-09-30"
    explorer.mission.value = "GSF"
    assert explorer.shown["total"] is None and "did not exist yet" in explorer.summary.value
    explorer.mission.value = "current"


def test_the_what_if_sliders_redraw_the_band(explorer):
    explorer.update_whatif()
    base = explorer.last_whatif.iloc[-1]["median"]
    explorer.funding_scale.value = 0.0  # no money at all: fewer people than with the money
    starved = explorer.last_whatif.iloc[-1]["median"]
    explorer.funding_scale.value = 1.0
    explorer.use_kept.value = True
    explorer.kept.value = 1.0  # every pledge kept in full: more people
    kept = explorer.last_whatif.iloc[-1]["median"]
    assert starved < base < kept
    assert "people by" in explorer.whatif_note.value


@pytest.mark.slow
def test_the_explorer_notebook_runs_headless():
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(paths.NOTEBOOKS_DIR / "explore.ipynb"), as_version=4)
    NotebookClient(nb, kernel_name="haiti-mss", timeout=300).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
