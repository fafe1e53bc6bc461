"""What the red-team found publishing wrong or dangerous output with no error, each refused
or neutralised now: spreadsheet formulas in exports, active content in a shared page, data
text read as mathematics, scenario files outside their spec."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from haiti_mss import offline, publish, specs
from haiti_mss.errors import ParameterError


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3+cmd|' /C calc'!A0",
                                  "@SUM(A1)", "\tx", "\rx"])
def test_an_exported_cell_a_spreadsheet_would_run_is_text(cell):
    text = publish.safe_csv(pd.DataFrame({"notes": [cell]}))
    value = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)["notes"][0]
    assert value.startswith("'"), value


def test_numbers_stay_numbers_and_lose_float_noise():
    text = publish.safe_csv(pd.DataFrame({"n": [3287700.0000000005, 2.0], "x": [0.1 + 0.2, 1.5],
                                          "neg": ["-5", "-1,000.5"]}))
    assert text.splitlines()[1:] == ["3287700,0.3,-5", '2,1.5,"-1,000.5"']


@pytest.mark.parametrize("html,found", [
    ("<p>x</p><script>alert(1)</script>", "script"),
    ('<p onclick="alert(1)">x</p>', "event handler"),
    ('<a href="javascript:alert(1)">x</a>', "javascript: link"),
    ('<a href="data:text/html,<b>x</b>">x</a>', "data: link"),
    ('<meta http-equiv="refresh" content="0;url=http://example.org">', "meta refresh"),
])
def test_the_share_check_refuses_active_content_by_itself(html, found):
    problems = offline.problems(f"<html><body>{html}</body></html>")
    assert any(found in p for p in problems), problems


def test_an_inline_image_is_still_fine():
    page = '<html><body><img src="data:image/png;base64,AAAA" alt="x"></body></html>'
    assert offline.problems(page) == []


def test_text_from_data_is_not_read_as_mathematics():
    import matplotlib.pyplot as plt

    from haiti_mss import plots

    plots.set_theme()
    fig, ax = plt.subplots()
    title = ax.set_title("$x^2$ from a publisher's name")
    label = ax.text(0, 0, "costs $5 and $6")
    fig.canvas.draw()
    assert title.get_parse_math() is False and label.get_parse_math() is False
    plt.close(fig)


@pytest.fixture
def scenarios(tmp_path, monkeypatch):
    from haiti_mss import paths

    base = (paths.SCENARIOS_DIR / "mss-observed.yaml").read_text(encoding="utf-8")
    monkeypatch.setattr(paths, "SCENARIOS_DIR", tmp_path)

    def write(extra: str, name: str = "probe") -> str:
        lines = [ln for ln in base.splitlines() if not any(
            ln.startswith(k + ":") for k in [e.split(":")[0] for e in extra.splitlines() if e])]
        (tmp_path / f"{name}.yaml").write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
        return name
    return write


@pytest.mark.parametrize("extra,words", [
    ("ceiling: -5\n", "'ceiling' = -5; expected 1 to 100,000"),
    ("months: 100000\n", "'months' = 100,000; expected 1 to 120"),
    ("gates_off: [funding, moon]\n", "'gates_off'"),
    ("mission: MSSS\n", "expected MSS or GSF"),
    ("title: [1, 2]\n", "expected text"),
    ("overrides: {lag_mean: {central: .nan}}\n", "finite number"),
    ("start: 2024-02-30\n", "expected a date"),
    ("whatever: 1\n", "unknown key(s) whatever"),
])
def test_a_scenario_outside_its_spec_is_refused_with_file_and_key(scenarios, extra, words):
    name = scenarios(extra)
    with pytest.raises(ParameterError) as info:
        specs.load_scenario(name)
    assert f"scenarios/{name}.yaml" in str(info.value) and words in str(info.value)


def test_draws_beyond_the_memory_budget_are_refused():
    with pytest.raises(ParameterError, match="GiB"):
        specs.check_draws("params/x.yaml", 10_000_000, 48)
    specs.check_draws("params/x.yaml", 100_000, 48)  # the benchmark size fits
