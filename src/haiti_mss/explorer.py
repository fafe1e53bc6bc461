"""The JupyterLab explorer (``notebooks/explore.ipynb``): pick a date and a mission and see
what the sources had reported by then; move the what-if sliders and see the modelled band
redrawn. The widgets and their callbacks live here, so a test can drive them without a
browser; the notebook only shows :meth:`Explorer.widget`."""

from __future__ import annotations

import time

import pandas as pd

from . import analysis, funding, narrative, plots
from .dataset import load_dataset
from .resolve import resolve_on
from .snapshots import from_state
from .timeline import month_ends


class Explorer:
    """Widgets and callbacks. ``n_prior`` sets the calibration's size for the what-if model
    (smaller than the reports' so the explorer starts in seconds)."""

    def __init__(self, data=None, *, n_prior: int = 4000, seed: int = 20231002):
        import ipywidgets as w

        self.data = data or load_dataset()
        self.n_prior, self.seed = n_prior, seed
        # From the first report about personnel (Kenya's offer, July 2023) to the newest fact.
        first = self.data.personnel["reported_date"].min()
        last = self.data.data_date
        ends = [d for d in month_ends(first, last)] + [last]
        options = [(f"{d:%-d %b %Y}", d.date().isoformat()) for d in dict.fromkeys(ends)]
        self.date = w.SelectionSlider(options=options, value=options[-1][1],
                                      description="Data as of", continuous_update=False,
                                      layout=w.Layout(width="95%"))
        self.mission = w.Dropdown(options=[("Current force", "current"), ("MSS", "MSS"),
                                           ("GSF", "GSF")], value="current",
                                  description="Mission")
        self.summary = w.HTML()
        self.money = w.HTML()
        self.chart = w.Output()
        self.funding_scale = w.FloatSlider(value=1.0, min=0.0, max=3.0, step=0.1,
                                           description="Money x", continuous_update=False)
        self.use_kept = w.Checkbox(value=False, description="Set the share of pledges kept")
        self.kept = w.FloatSlider(value=0.6, min=0.0, max=1.0, step=0.05,
                                  description="Kept", continuous_update=False)
        self.lag = w.FloatSlider(value=0.0, min=-6.0, max=6.0, step=0.5,
                                 description="Lag (months)", continuous_update=False)
        self.whatif = w.Output()
        self.whatif_note = w.HTML()
        self._report = None
        self.last_whatif: pd.DataFrame | None = None
        self.last_whatif_seconds: float | None = None
        for control in (self.date, self.mission):
            control.observe(self.update_view, names="value")
        for control in (self.funding_scale, self.use_kept, self.kept, self.lag):
            control.observe(self.update_whatif, names="value")
        self.update_view()

    # -- the record on a date -------------------------------------------------------------
    def update_view(self, change=None) -> None:
        """Resolve the data as known on the chosen date and redraw the summary and chart."""
        state = resolve_on(self.data, self.date.value)
        mission = self.mission.value
        if mission == "current":
            mission = state.current_mission or "MSS"
        if state.mission(mission) is None:
            self.summary.value = (f'<p class="mss-gap">The {mission} did not exist yet on '
                                  f'{self.date.value}.</p>')
            self.money.value = ""
            self.chart.clear_output()
            self.shown = {"as_of": self.date.value, "mission": mission, "total": None}
            return
        snap = from_state(state)
        self.summary.value = (narrative.report_header(state, label="")
                              + narrative.contributions_summary(snap, mission))
        self.money.value = narrative.funding_summary(funding.funding_overview(state, mission))
        m = snap.headline()["missions"][mission]
        self.shown = {"as_of": self.date.value, "mission": mission,
                      "total": m["total_deployed"], "pledged": m["total_pledged"]}
        from .views import contributions

        view = contributions(state, mission)
        self.chart.clear_output(wait=True)
        with self.chart:
            from IPython.display import display

            if view["monthly"].empty:
                display(_html('<p class="mss-gap">No arrivals had been reported by this date.'
                              '</p>'))
            else:
                plots.set_theme()
                plan = view["mission"] and view["mission"]["planned_strength"]
                ax = plots.plot_deployed_over_time(
                    view["monthly"], totals=view["totals"], stated=view["stated_totals"],
                    planned=plan and plan["count"], events=view["events"])
                ax.set_title(narrative.strength_title(view, mission))
                display(ax.figure)
                import matplotlib.pyplot as plt

                plt.close(ax.figure)

    # -- what if ----------------------------------------------------------------------------
    @property
    def report(self):
        """The MSS model, fitted once on all the data (the what-if sliders move its inputs)."""
        if self._report is None:
            state = resolve_on(self.data, "latest")
            self._report = analysis.model_report(self.data, state, "mss-observed",
                                                 n_prior=self.n_prior, seed=self.seed,
                                                 identify=False)
        return self._report

    def update_whatif(self, change=None) -> None:
        """Rerun the fitted model with the sliders' inputs and redraw its band."""
        report = self.report
        start = time.perf_counter()
        bands = analysis.what_if(report, funding_scale=self.funding_scale.value,
                                 pledges_kept=self.kept.value if self.use_kept.value else None,
                                 lag_shift=self.lag.value)
        self.last_whatif_seconds = time.perf_counter() - start
        self.last_whatif = bands
        end = bands.iloc[-1]
        self.whatif_note.value = (
            f"<p>With these inputs the model puts the MSS at about "
            f"<strong>{end['median']:,.0f}</strong> people by {end['month']:%B %Y} (80% band "
            f"{end['p10']:,.0f} to {end['p90']:,.0f}). The model does not beat a naive "
            f"forecast on the record: use it to compare assumptions, not as a finding.</p>")
        self.whatif.clear_output(wait=True)
        with self.whatif:
            import matplotlib.pyplot as plt
            from IPython.display import display

            plots.set_theme()
            a = report.analysis
            ax = plots.plot_model_bands(bands.assign(p2_5=bands["p10"], p97_5=bands["p90"]),
                                        a.observed, ceiling=a.setting.ceiling,
                                        label="What-if strength")
            display(ax.figure)
            plt.close(ax.figure)

    def widget(self):
        """Everything, laid out for JupyterLab."""
        import ipywidgets as w

        self.update_whatif()
        return w.VBox([
            w.HTML("<h3>The record on a date</h3>"), w.HBox([self.mission]), self.date,
            self.summary, self.chart, self.money,
            w.HTML("<h3>What if (the MSS model)</h3>"),
            w.HBox([self.funding_scale, self.lag]), w.HBox([self.use_kept, self.kept]),
            self.whatif_note, self.whatif])


def _html(text: str):
    from IPython.display import HTML

    return HTML(text)
