"""The page's style and script, as constants (no template engine: the page is built with plain
strings and `html.escape`, the script renders the same cards from ``/status.json``)."""

from __future__ import annotations

CSS = """
:root { --green: #1b7f3b; --amber: #b86e00; --red: #b3261e; --ink: #1d1d1f; --line: #d8d8de; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, sans-serif; color: var(--ink); margin: 0; background: #f6f6f8; }
header { display: flex; flex-wrap: wrap; gap: 1em; align-items: center; padding: .8em 1.2em;
  background: #fff; border-bottom: 4px solid var(--line); }
header.green { border-color: var(--green); } header.amber { border-color: var(--amber); }
header.red { border-color: var(--red); }
h1 { font-size: 1.3em; margin: 0; } h2 { font-size: 1.1em; margin: 1.2em 0 .5em; }
h3 { font-size: 1em; margin: 0 0 .3em; display: flex; justify-content: space-between; }
main { padding: 0 1.2em 2em; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: .7em; }
.card { background: #fff; border: 1px solid var(--line); border-left: 6px solid var(--line);
  border-radius: 6px; padding: .6em .8em; }
.card p { margin: .2em 0; overflow-wrap: anywhere; }
.card.green { border-left-color: var(--green); } .card.amber { border-left-color: var(--amber); }
.card.red { border-left-color: var(--red); }
.badge { color: #fff; border-radius: 3px; padding: 0 .45em; font-size: .8em;
  text-transform: uppercase; background: var(--line); }
.badge.green { background: var(--green); } .badge.amber { background: var(--amber); }
.badge.red { background: var(--red); }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid var(--line);
  vertical-align: top; }
tr.amber td:first-child { box-shadow: inset 4px 0 var(--amber); }
tr.red td:first-child { box-shadow: inset 4px 0 var(--red); }
tr.green td:first-child { box-shadow: inset 4px 0 var(--green); }
ul.gaps { margin: 0; padding-left: 1.1em; }
.error { color: var(--red); } .muted { color: #6b6b75; }
form { display: flex; flex-wrap: wrap; gap: .5em; align-items: center; margin: .4em 0; }
fieldset { border: 1px solid var(--line); border-radius: 6px; background: #fff; margin: .5em 0; }
progress { width: 8em; }
#stale { color: var(--red); }
"""

JS = """
(() => {
  const config = JSON.parse(document.getElementById("status-config").textContent);
  const KEY = "nemstream-status-key";
  const byId = (id) => document.getElementById(id);
  const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => (
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);
  // any ISO instant as NEM wall time (UTC+10 all year)
  const when = (iso) => iso ? new Date(Date.parse(iso) + 36e6).toISOString().slice(0, 16)
    .replace("T", " ") : "none";
  const age = (s) => s == null ? "" : s < 120 ? `${Math.round(s)} s` : s < 7200
    ? `${Math.round(s / 60)} min` : s < 172800 ? `${(s / 3600).toFixed(1)} h`
    : `${(s / 86400).toFixed(1)} days`;
  const badge = (c) => `<span class="badge ${esc(c)}">${esc(c)}</span>`;
  const card = (c, title, lines) => `<div class="card ${esc(c)}"><h3>${esc(title)} ${badge(c)}</h3>`
    + lines.filter(Boolean).map((l) => `<p>${l}</p>`).join("") + "</div>";

  const feed = (f) => card(f.colour, f.feed, [
    `<strong>${esc(when(f.latest_interval))}</strong>`
      + (f.age_s != null ? ` (${esc(age(Math.max(f.age_s, 0)))} ago)` : ""),
    esc(f.detail),
    f.last_poll_at ? `last poll ${esc(when(f.last_poll_at))}: ${f.last_poll_ok ? "ok" : "failed"}`
      : `<span class="muted">no poll recorded</span>`,
    f.last_error ? `<span class="error">last error ${esc(when(f.last_error_at))}: `
      + `${esc(f.last_error)}</span>` : "",
  ]);
  const consumer = (c) => card(c.colour, c.durable, [esc(c.detail)]);
  const service = (s) => card(s.colour, s.name, [esc(s.state), esc(s.detail),
    `<span class="muted">${esc(s.url)}</span>`]);
  const gap = (t, g) => `<li>${esc(when(g.start))} to ${esc(when(g.end))} (${esc(g.intervals)})`
    + (t.feed ? ` <button type="button" class="backfill-gap" data-feed="${esc(t.feed)}"`
      + ` data-start="${esc(g.first_day)}" data-end="${esc(g.last_day)}">backfill ${esc(t.feed)} `
      + `${esc(g.first_day)}${g.last_day !== g.first_day ? " to " + esc(g.last_day) : ""}</button>`
      : "") + "</li>";
  const table = (t) => `<tr class="${esc(t.colour)}"><td>${esc(t.table)}</td>`
    + `<td>${esc(t.rows.toLocaleString())}</td><td>${esc(when(t.latest_interval))}</td>`
    + `<td>${esc(t.detail)}</td><td>${t.gaps.length ? `<ul class="gaps">${t.gaps.map((g) =>
      gap(t, g)).join("")}</ul>` : ""}${t.gaps_total > t.gaps.length
      ? `<span class="muted">and ${esc(t.gaps_total - t.gaps.length)} more</span>` : ""}</td></tr>`;
  const job = (j) => `<tr><td>${esc(j.id)}</td><td>${esc(j.kind)}</td><td>${esc(j.target)}</td>`
    + `<td>${esc(j.state)}</td><td>${j.total ? `<progress value="${esc(j.done)}" `
      + `max="${esc(j.total)}"></progress> ${esc(j.done)}/${esc(j.total)}` : ""}</td>`
    + `<td>${esc(j.detail)}</td><td>${esc(when(j.updated))}</td></tr>`;

  function render(r) {
    byId("overall").outerHTML = `<span id="overall" class="badge ${esc(r.colour)}">`
      + `${esc(r.colour)}</span>`;
    document.querySelector("header").className = r.colour;
    byId("generated").textContent = `as of ${when(r.generated_at)} NEM time`;
    byId("feeds").innerHTML = r.feeds.map(feed).join("");
    byId("consumers").innerHTML = r.consumers.map(consumer).join("");
    byId("services").innerHTML = r.services.map(service).join("");
    byId("tables").innerHTML = r.tables.map(table).join("");
    byId("jobs").innerHTML = r.jobs.map(job).join("")
      || `<tr><td colspan="7" class="muted">no jobs yet</td></tr>`;
  }

  async function refresh() {
    const params = new URLSearchParams({start: config.start, end: config.end});
    try {
      const response = await fetch(`status.json?${params}`, {cache: "no-store"});
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      render(await response.json());
      byId("stale").hidden = true;
    } catch (error) {
      byId("stale").hidden = false;
      byId("stale").textContent = `could not refresh: ${error.message}`;
    }
  }

  const keyInput = byId("api-key");
  keyInput.value = sessionStorage.getItem(KEY) || "";
  keyInput.addEventListener("input", () => sessionStorage.setItem(KEY, keyInput.value.trim()));

  async function act(path, body) {
    const out = byId("action-result");
    const key = sessionStorage.getItem(KEY) || "";
    const headers = {"Content-Type": "application/json"};
    if (key) headers.Authorization = `Bearer ${key}`;
    out.className = "";
    out.textContent = "sending...";
    try {
      const response = await fetch(path, {method: "POST", headers, body: JSON.stringify(body)});
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) {
        out.className = "error";
        const detail = typeof answer.detail === "string" ? answer.detail
          : JSON.stringify(answer.detail ?? answer);
        out.textContent = `${response.status}: ${detail}`;
        return;
      }
      const jobs = answer.jobs || [answer];
      out.textContent = `queued: ${jobs.map((j) => `${j.kind} ${j.id}`).join(", ")}`;
      refresh();
    } catch (error) {
      out.className = "error";
      out.textContent = `failed: ${error.message}`;
    }
  }

  const submitted = (id, path, fields) => byId(id).addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    act(path, Object.fromEntries(fields.map((f) => [f, form.get(f)])));
  });
  submitted("integrity-form", "actions/integrity", ["start", "end"]);
  submitted("backfill-form", "actions/backfill", ["feed", "start", "end"]);
  submitted("alert-form", "actions/test-alert", ["message"]);
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.backfill-gap");
    if (!button) return;
    const {feed, start, end} = button.dataset;
    if (window.confirm(`Backfill ${feed} for ${start} to ${end}?`)) {
      act("actions/backfill", {feed, start, end});
    }
  });
  setInterval(refresh, config.refresh_s * 1000);
})();
"""
