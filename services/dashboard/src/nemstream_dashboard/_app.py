"""One page: the controls in the sidebar, the five tabs, the URL kept in step with both, light
and dark themes, and the live wiring (the process's watcher tells the page which tables
changed; the open tab redraws, the others when next opened)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

import panel as pn
import panel.io.resources as panel_resources
from panel.io.state import set_curdoc
from panel.theme import Fast

from nemstream_dashboard._context import Context
from nemstream_dashboard._controls import TABS, Controls
from nemstream_dashboard._forecasts import Forecasts
from nemstream_dashboard._generation import Generation
from nemstream_dashboard._prices import Prices
from nemstream_dashboard._rooftop import Rooftop
from nemstream_dashboard._stations import Stations
from nemstream_dashboard._today import Today
from nemstream_dashboard._view import STYLE, View
from nemstream_runtime import get_logger

if TYPE_CHECKING:
    from panel.io.resources import ResourcesType

log = get_logger(__name__)

# Panel's Fast design links a web font from Google's CDN; the page uses the system's fonts
# instead, so it asks nothing of the internet (offline demos, closed networks) and the browser
# logs no failed request. Panel's resource loader keys on the class, so the design's own resource
# list is trimmed rather than subclassed.
Fast._resources = cast(
    "ResourcesType", {key: value for key, value in Fast._resources.items() if key != "font"}
)

# Panel sends Bokeh's MathJax bundle (1.8 MB of JavaScript for the browser to parse on every
# page) whenever a page holds an HTML pane, in case it contains LaTeX. Ours hold none: the
# bundle is left out. Bokeh's own test for math text models still applies.
panel_resources._panel_use_mathjax = lambda roots: False


URL_PARAMETERS = {
    "tab": "tab",
    "region": "region",
    "span": "range",
    "start": "start",
    "end": "end",
    "unit": "unit",
    "by": "by",
}
"""Controls kept in the page's URL (query parameter names)."""


def from_url(controls: Controls) -> None:
    """Set the controls from the page's URL (``?tab=prices&region=SA1``) before the first
    draw; a value the controls do not accept is ignored (the default stays)."""
    args = pn.state.session_args or {}
    for name, key in URL_PARAMETERS.items():
        values = args.get(key)
        if not values:
            continue
        raw = values[0]
        value = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        try:
            controls.param.update({name: value})
        except ValueError:
            log.info("dashboard_url_value_ignored", parameter=key, value=value[:80])


class Page:
    """One browser session's page."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.controls = Controls()
        self.kinds: tuple[type[View], ...] = (
            Today,
            Generation,
            Prices,
            Stations,
            Rooftop,
            Forecasts,
        )
        # a tab's view is built when the tab is first opened: a page costs the server and the
        # browser the one tab it shows, not five
        self.holders = [pn.Column(sizing_mode="stretch_width") for _ in self.kinds]
        self.built: dict[int, View] = {}
        self.document: Any = None
        self.started = False
        from_url(self.controls)
        self.tabs = pn.Tabs(
            *[(kind.title, holder) for kind, holder in zip(self.kinds, self.holders, strict=True)],
            dynamic=False,
            active=TABS.index(str(self.controls.tab)),
        )
        # the open tab is built and drawn into the first document sent, not patched in after
        self.view(self.tabs.active).prepare()
        region = pn.widgets.Select.from_param(self.controls.param.region, name="region")
        span = pn.widgets.RadioButtonGroup.from_param(
            self.controls.param.span, name="range", button_type="light"
        )
        start = pn.widgets.TextInput.from_param(
            self.controls.param.start, name="from (NEM time)", placeholder="2026-03-01"
        )
        end = pn.widgets.TextInput.from_param(
            self.controls.param.end, name="to (NEM time)", placeholder="2026-03-31 23:55"
        )
        custom = pn.Column(start, end, visible=self.controls.span == "custom")
        self.controls.param.watch(lambda e: setattr(custom, "visible", e.new == "custom"), "span")
        self.template = pn.template.FastListTemplate(
            title="nemstream · NEM live",
            sidebar=[
                pn.pane.Markdown(
                    "Times are interval ending, **NEM time** (UTC+10, no daylight saving)."
                ),
                region,
                span,
                custom,
            ],
            main=[self.tabs],
            header_background="#1b4f72",
            accent_base_color="#1b4f72",
            theme_toggle=True,
            font="system-ui, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
            font_url="",  # the system's fonts: no request to a font CDN (works offline)
            raw_css=[STYLE],
            sidebar_width=300,
        )
        self.tabs.param.watch(self._tab_changed, "active")
        self.controls.param.watch(self._range_changed, ["region", "span", "start", "end"])
        self.controls.param.watch(self._unit_changed, ["unit", "by"])
        self.controls.param.watch(self._tab_from_url, "tab")
        self.handle: int | None = None
        self.pending: asyncio.Future[None] | None = None  # the redraw a new-data notice started

    def view(self, index: int) -> View:
        """The tab's view, built on first use."""
        if index not in self.built:
            view = self.kinds[index](self.context, self.controls)
            view.document = self.document
            self.holders[index][:] = [view.panel, view.status]
            self.built[index] = view
        return self.built[index]

    @property
    def active(self) -> View:
        """The view on screen."""
        return self.view(self.tabs.active)

    def start(self) -> None:
        """Sync the URL, subscribe to new data, draw the open tab (once)."""
        self.document = pn.state.curdoc
        for view in self.built.values():
            view.document = self.document
        if pn.state.location is not None:
            pn.state.location.sync(self.controls, URL_PARAMETERS)
        self.tabs.active = TABS.index(str(self.controls.tab))
        doc = self.document
        if doc is not None:
            self.handle = self.context.live.subscribe(doc, self._new_data_from_watcher(doc))
            pn.state.on_session_destroyed(self._closed)
        self.started = True
        if self.active.stale or self.active.changed_since_prepared():
            pn.state.execute(self.active.refresh)

    def _new_data_from_watcher(self, doc: Any) -> Any:
        def on_tick(tables: set[str]) -> None:
            with set_curdoc(doc):
                self.pending = asyncio.ensure_future(self.new_data(tables))

        return on_tick

    async def new_data(self, tables: set[str]) -> None:
        """Tables changed: redraw the open tab if it shows one, mark the others."""
        for view in self.built.values():
            if set(view.tables) & tables:
                view.stale = True
        if self.started and self.active.stale:
            await self.active.refresh()

    async def _tab_changed(self, event: Any) -> None:
        self.controls.tab = TABS[event.new]
        if self.started and self.active.stale:
            await self.active.refresh()

    def _tab_from_url(self, event: Any) -> None:
        index = TABS.index(str(event.new))
        if self.tabs.active != index:
            self.tabs.active = index

    async def _range_changed(self, event: Any) -> None:
        for view in self.built.values():
            view.stale = True
        if self.started:
            await self.active.refresh()

    async def _unit_changed(self, event: Any) -> None:
        index = TABS.index("stations")
        if index in self.built:
            self.built[index].stale = True
            if self.started and self.tabs.active == index:
                await self.built[index].refresh()

    def _closed(self, session_context: Any) -> None:
        if self.handle is not None:
            self.context.live.unsubscribe(self.handle)


def create_page(context: Context) -> Any:
    """The app for one browser session (Panel calls this for each)."""
    pn.extension("tabulator")  # tabs are built when opened: load Tabulator's JavaScript up front
    page = Page(context)
    pn.state.onload(page.start)
    return page.template
