"""Sentences and headers for reports, built from computed figures, so that no number in a
report's text is typed by hand."""

from __future__ import annotations

import datetime as dt
from html import escape

import pandas as pd

from .personnel import DEPLOYED_RULE
from .snapshot import Snapshot
from .timeline import CONFLICT_RULE


def resolve_as_of(as_of: str) -> str:
    """The report parameter ``as_of``: an ISO date, or ``latest`` for everything in the data."""
    if as_of == "latest":
        return dt.date.today().isoformat()
    return dt.date.fromisoformat(as_of).isoformat()


def _n(value) -> str:
    return "not reported" if value is None or pd.isna(value) else f"{int(value):,}"


def report_header(snap: Snapshot, *, label: str) -> str:
    """The 'data as of' line every report opens with (as HTML)."""
    return (f'<p class="mss-meta">Data as of <strong>{snap.as_of.date().isoformat()}</strong> '
            f'({escape(label)}): only facts published on or before this date are used. '
            f'Data version <code>{snap.data_version}</code>.</p>')


def contributions_summary(snap: Snapshot) -> str:
    """Executive summary of who pledged and who deployed (HTML), every figure computed."""
    head = snap.headline()
    mission = head["current_mission"]
    m = head["missions"].get(mission) or next(iter(head["missions"].values()))
    deployed = [c for c in m["contributors"] if c["deployed"]]
    never = [c for c in m["contributors"] if c["pledged"] and not c["deployed"]]
    plan = m["planned_strength"]
    on_ground = ", ".join(f"{escape(c['name'])} {_n(c['deployed'])}" for c in deployed)
    parts = [f"<li><strong>{_n(m['total_deployed'])}</strong> personnel were on the ground "
             f"({on_ground or 'none'}).</li>"]
    if plan:
        share = m["total_deployed"] / plan["count"] * 100 if plan["count"] else float("nan")
        parts.append(f"<li>That is <strong>{share:.0f}%</strong> of the planned strength of "
                     f"{_n(plan['count'])} (latest stated {plan['date']}).</li>")
    parts.append(f"<li><strong>{_n(m['total_pledged'])}</strong> personnel had been pledged by "
                 f"{len(m['contributors'])} countries; {len(never)} of them had sent no one yet"
                 f"{': ' + ', '.join(escape(c['name']) for c in never) if never else ''}.</li>")
    mandate = head["mandate"]
    if mandate:
        ceiling = (f"a ceiling of {_n(mandate['ceiling_personnel'])}"
                   if mandate["ceiling_personnel"] else "no numeric ceiling")
        parts.append(f"<li>The authorization in force was resolution {mandate['resolution']} "
                     f"(adopted {mandate['adopted']}), with {ceiling}.</li>")
    if m["latest_reported_total"]:
        t = m["latest_reported_total"]
        parts.append(f"<li>The latest mission-wide count a source reported was {_n(t['count'])} "
                     f"on {t['date']}.</li>")
    return f'<div class="mss-summary"><strong>In short</strong><ul>{"".join(parts)}</ul></div>'


def method_note() -> str:
    """The rules that turn reported facts into the figures shown (HTML)."""
    return (f'<p class="mss-meta"><strong>How figures are chosen.</strong> {escape(CONFLICT_RULE)} '
            f'{escape(DEPLOYED_RULE)}</p>')
