"""The status page as HTML: built from a `StatusReport` with plain strings, every value through
`html.escape`; the same cards the script re-renders from ``/status.json`` every few seconds
(without the script, a meta refresh reloads the page). Actions need the script: the API key
goes in a header, kept in the browser's sessionStorage only."""

from __future__ import annotations

import json
from datetime import date, datetime
from html import escape

from nemstream_control import Job
from nemstream_market import nem_time
from nemstream_status._assets import CSS, JS
from nemstream_status._report import (
    ConsumerCard,
    FeedCard,
    ServiceCard,
    StatusReport,
    TableCard,
)
from nemstream_status._store import FEEDS


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _when(moment: datetime | None) -> str:
    return nem_time(moment).strftime("%Y-%m-%d %H:%M") if moment is not None else "none"


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _card(colour: str, title: str, lines: list[str]) -> str:
    body = "".join(f"<p>{line}</p>" for line in lines if line)
    badge = f'<span class="badge {_e(colour)}">{_e(colour)}</span>'
    return f'<div class="card {_e(colour)}"><h3>{_e(title)} {badge}</h3>{body}</div>'


def feed_card(f: FeedCard) -> str:
    """A feed's card."""
    newest = f"<strong>{_e(_when(f.latest_interval))}</strong>"
    if f.age_s is not None:
        newest += f" ({_e(_age(max(f.age_s, 0)))} ago)"
    poll = (
        f"last poll {_e(_when(f.last_poll_at))}: {'ok' if f.last_poll_ok else 'failed'}"
        if f.last_poll_at
        else '<span class="muted">no poll recorded</span>'
    )
    error = (
        f'<span class="error">last error {_e(_when(f.last_error_at))}: {_e(f.last_error)}</span>'
        if f.last_error
        else ""
    )
    return _card(f.colour, f.feed, [newest, _e(f.detail), poll, error])


def consumer_card(c: ConsumerCard) -> str:
    """A consumer's card."""
    return _card(c.colour, c.durable, [_e(c.detail)])


def service_card(s: ServiceCard) -> str:
    """A service's card."""
    return _card(
        s.colour, s.name, [_e(s.state), _e(s.detail), f'<span class="muted">{_e(s.url)}</span>']
    )


def table_row(t: TableCard) -> str:
    """A store table's row, with a backfill button per gap."""
    items = []
    for g in t.gaps:
        button = ""
        if t.feed:
            days = _e(g.first_day) + (f" to {_e(g.last_day)}" if g.last_day != g.first_day else "")
            button = (
                f' <button type="button" class="backfill-gap" data-feed="{_e(t.feed)}"'
                f' data-start="{_e(g.first_day)}" data-end="{_e(g.last_day)}">'
                f"backfill {_e(t.feed)} {days}</button>"
            )
        items.append(
            f"<li>{_e(_when(g.start))} to {_e(_when(g.end))} ({_e(g.intervals)}){button}</li>"
        )
    gaps = f'<ul class="gaps">{"".join(items)}</ul>' if items else ""
    if t.gaps_total > len(t.gaps):
        gaps += f'<span class="muted">and {t.gaps_total - len(t.gaps)} more</span>'
    return (
        f'<tr class="{_e(t.colour)}"><td>{_e(t.table)}</td><td>{t.rows:,}</td>'
        f"<td>{_e(_when(t.latest_interval))}</td><td>{_e(t.detail)}</td><td>{gaps}</td></tr>"
    )


def job_row(j: Job) -> str:
    """A job's row, with its progress."""
    progress = (
        f'<progress value="{j.done}" max="{j.total}"></progress> {j.done}/{j.total}'
        if j.total
        else ""
    )
    return (
        f"<tr><td>{_e(j.id)}</td><td>{_e(j.kind)}</td><td>{_e(j.target)}</td>"
        f"<td>{_e(j.state)}</td><td>{progress}</td><td>{_e(j.detail)}</td>"
        f"<td>{_e(_when(j.updated))}</td></tr>"
    )


def _config(report: StatusReport, first: date, last: date) -> str:
    """The script's settings, safe inside a script element."""
    data = {"refresh_s": report.refresh_s, "start": first.isoformat(), "end": last.isoformat()}
    return json.dumps(data).replace("<", "\\u003c")


def _actions(report: StatusReport, first: date, last: date) -> str:
    state = (
        "Actions need an API key (sent as <code>Authorization: Bearer</code>, kept in this tab "
        "only)."
        if report.actions_enabled
        else '<span class="error">Actions are disabled until NEMSTREAM_API_KEYS is set.</span>'
    )
    options = "".join(f'<option value="{_e(f)}">{_e(f)}</option>' for f in FEEDS)
    days = (
        f'from <input type="date" name="start" value="{first}" required> '
        f'to <input type="date" name="end" value="{last}" required>'
    )
    return f"""<section><h2>Actions</h2><p>{state}</p>
<noscript><p class="error">Actions need JavaScript.</p></noscript>
<form onsubmit="return false"><label>API key <input id="api-key" type="password"
 autocomplete="off" size="40"></label></form>
<fieldset><legend>Integrity check (gaps, keys held twice)</legend>
<form id="integrity-form">{days} <button>check</button></form></fieldset>
<fieldset><legend>Backfill a feed from NEMWeb</legend>
<form id="backfill-form"><select name="feed">{options}</select> {days}
<button>backfill</button></form></fieldset>
<fieldset><legend>Test alert (a text and a mail through the real services)</legend>
<form id="alert-form"><input name="message" value="nemstream test alert" maxlength="300"
 size="40" required> <button>send</button></form></fieldset>
<p id="action-result" role="status"></p></section>"""


def render_page(report: StatusReport, first: date, last: date, *, error: str | None = None) -> str:
    """The whole page for trading days `first`..`last` (`error`: said at the top)."""
    feeds = "".join(feed_card(f) for f in report.feeds)
    consumers = "".join(consumer_card(c) for c in report.consumers)
    services = "".join(service_card(s) for s in report.services)
    tables = "".join(table_row(t) for t in report.tables)
    jobs = "".join(job_row(j) for j in report.jobs) or (
        '<tr><td colspan="7" class="muted">no jobs yet</td></tr>'
    )
    problem = f'<p class="error">{_e(error)}</p>' if error else ""
    colour = _e(report.colour)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nemstream status</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<noscript><meta http-equiv="refresh" content="{int(report.refresh_s)}"></noscript>
<style>{CSS}</style></head><body>
<header class="{colour}"><h1>nemstream status</h1>
<span id="overall" class="badge {colour}">{colour}</span>
<span id="generated">as of {_e(_when(report.generated_at))} NEM time</span>
<span id="stale" hidden></span>
<form id="range" method="get">gaps over trading days
<input type="date" name="start" value="{first}" required> to
<input type="date" name="end" value="{last}" required> <button>show</button></form>
</header><main>{problem}
<section><h2>Feeds</h2><div id="feeds" class="cards">{feeds}</div></section>
<section><h2>Consumers</h2><div id="consumers" class="cards">{consumers}</div></section>
<section><h2>Services</h2><div id="services" class="cards">{services}</div></section>
<section><h2>Store tables</h2><table><thead><tr><th>table</th><th>rows</th>
<th>newest interval</th><th>completeness</th><th>gaps (NEM time)</th></tr></thead>
<tbody id="tables">{tables}</tbody></table></section>
{_actions(report, first, last)}
<section><h2>Jobs</h2><table><thead><tr><th>job</th><th>kind</th><th>target</th><th>state</th>
<th>progress</th><th>detail</th><th>updated (NEM)</th></tr></thead>
<tbody id="jobs">{jobs}</tbody></table></section>
</main>
<script id="status-config" type="application/json">{_config(report, first, last)}</script>
<script>{JS}</script>
</body></html>"""
