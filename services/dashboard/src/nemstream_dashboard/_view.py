"""What every tab shares: a card per chart (its figure, a CSV download of exactly what it plots,
a plain "no data" message instead of an empty or broken chart), queries run off the page's
event loop with a loading indicator when they take longer than ~300 ms, and errors shown as one
sentence, never a traceback, while the log keeps the details.

A tab refreshes in two steps: `View.load` queries (in threads, touching no widget), then
`View.draw` changes the page on its document's own tick, where Bokeh holds the document lock
that direct changes to a figure's data need."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import panel as pn
import polars as pl

from nemstream_dashboard._context import Context
from nemstream_dashboard._controls import Controls
from nemstream_runtime import get_logger

log = get_logger(__name__)

T = TypeVar("T")

STYLE = (Path(__file__).with_name("style.css")).read_text("utf-8")
"""The dashboard's own styles (HTML panes render in a shadow root: each is given them)."""

LOADING_AFTER_S = 0.3
"""A query quicker than this shows no spinner (no flicker on fast answers)."""


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


@dataclass(eq=False)
class Card:
    """One chart (or table) with its download and its empty/error message."""

    title: str
    body: Any
    frame: pl.DataFrame = field(default_factory=pl.DataFrame)
    note: Any = None
    download: Any = None
    panel: Any = None

    def __post_init__(self) -> None:
        self.note = pn.pane.Alert("", alert_type="light", visible=False, margin=(0, 10))
        self.partial = pn.pane.Markdown("", visible=False, margin=(0, 10), css_classes=["partial"])
        self.holder = pn.Column(self.body, sizing_mode="stretch_width")
        self.download = pn.widgets.FileDownload(
            callback=self._csv,
            filename=f"nemstream-{_slug(self.title)}.csv",
            label="CSV",
            button_type="light",
            width=80,
            height=32,
            css_classes=["csv-download"],
        )
        header = pn.Row(
            pn.pane.Markdown(f"#### {self.title}", margin=(0, 10)),
            pn.layout.HSpacer(),
            self.download,
        )
        self.panel = pn.Column(
            header,
            self.note,
            self.partial,
            self.holder,
            sizing_mode="stretch_width",
            css_classes=["nemstream-card", f"card-{_slug(self.title)}"],
            name=_slug(self.title),
        )

    def _csv(self) -> io.StringIO:
        return io.StringIO(self.frame.write_csv(datetime_format="%Y-%m-%dT%H:%M:%S"))

    def show(self, frame: pl.DataFrame, empty: str) -> bool:
        """Remember what the card plots (its CSV); say `empty` instead when there is none."""
        self.frame = frame
        has = not frame.is_empty()
        self.note.object = "" if has else empty
        self.note.alert_type = "light"
        self.note.visible = not has
        self.holder.visible = has
        partial = (
            int((~frame["complete"]).sum())
            if has and "complete" in frame.columns and frame.schema["complete"] == pl.Boolean
            else 0
        )
        self.partial.object = (
            f"*{partial} of {frame.height} values stand on fewer 5-minute intervals than their "
            "period holds (gaps in the source): read them as partial.*"
            if partial
            else ""
        )
        self.partial.visible = bool(partial)
        return has

    def fail(self, message: str) -> None:
        """Say a query failed, in one sentence."""
        self.frame = pl.DataFrame()
        self.note.object = message
        self.note.alert_type = "warning"
        self.note.visible = True
        self.partial.visible = False
        self.holder.visible = False


class View:
    """A tab: builds its layout once, refreshes it when the page's controls or the data change."""

    title = ""
    tables: tuple[str, ...] = ()

    def __init__(self, context: Context, controls: Controls) -> None:
        self.context = context
        self.controls = controls
        self.cards: list[Card] = []
        self.drawn = 0
        self.status = pn.pane.HTML("", margin=0, height=0, sizing_mode="stretch_width")
        """Says (in ``data-drawn``) how many times the view has been drawn: what browser tests
        and the benchmark wait for, instead of guessing with a sleep."""
        self.panel = pn.Column(sizing_mode="stretch_width", name=self.title)
        self.stale = True
        self.refreshing = False
        self.document: Any = None  # the page's Bokeh document, set when the page starts
        self.seen: tuple[int, ...] = ()  # table versions the first draw showed

    def card(self, title: str, body: Any) -> Card:
        """Add a card (in layout order)."""
        made = Card(title, body)
        self.cards.append(made)
        return made

    def window(self) -> tuple[datetime, datetime]:
        """The (start, end] the page's range means now."""
        latest, earliest = self.context.bounds()
        return self.controls.window(latest, earliest)

    async def query(self, run: Callable[[], T]) -> T:
        """Run a blocking query off the page's event loop."""
        return await asyncio.to_thread(run)

    def prepare(self) -> None:
        """Query and draw before the page is first sent, so the browser renders the tab once,
        with its data, rather than an empty tab and then a patch after the websocket opens."""
        began = time.perf_counter()
        self.seen = self.context.query.engine.version(*self.tables)
        self.stale = False
        try:
            with ThreadPoolExecutor(1) as pool:  # the server's event loop runs on this thread
                data = pool.submit(asyncio.run, self.load()).result()
            loaded = time.perf_counter()
            self._draw(data)
            self._timed(began, loaded, first=True)
        except Exception as exc:  # noqa: BLE001 - a page shows one sentence, the log the rest
            self._fail(self._failure(exc))

    def changed_since_prepared(self) -> bool:
        """Whether the tables it shows changed after `prepare` drew them."""
        return bool(self.context.query.engine.version(*self.tables) != self.seen)

    async def refresh(self) -> None:
        """Query and redraw, with a loading indicator for slow queries and errors said plainly."""
        if self.refreshing:
            self.stale = True  # another refresh is running: it will be followed by one more
            return
        self.refreshing = True
        self.stale = False
        loop = asyncio.get_running_loop()
        spinner = loop.call_later(LOADING_AFTER_S, lambda: self._tick(self._loading, True))
        began = time.perf_counter()
        try:
            data = await self.load()
            loaded = time.perf_counter()
            await self.locked(lambda: self._draw(data))
            self._timed(began, loaded)
        except Exception as exc:  # noqa: BLE001 - a page shows one sentence, the log the rest
            message = self._failure(exc)
            await self.locked(lambda: self._fail(message))
        finally:
            spinner.cancel()
            self._tick(self._loading, False)
            self.refreshing = False
        if self.stale:
            await self.refresh()

    def _timed(self, began: float, loaded: float, **context: object) -> None:
        log.debug(
            "dashboard_view_drawn",
            view=self.title,
            query_s=round(loaded - began, 3),
            draw_s=round(time.perf_counter() - loaded, 3),
            **context,
        )

    def _failure(self, exc: Exception) -> str:
        """Log a failed load or draw in full; return the one sentence the page shows."""
        log.exception("dashboard_view_failed", view=self.title, error=repr(exc))
        return f"Could not load this view: {type(exc).__name__}. The log has details."

    def _draw(self, data: Any) -> None:
        # one batch: Bokeh otherwise walks the whole document's model graph after every changed
        # property, which was most of a redraw's cost
        with pn.io.hold(self.document, freeze=True):
            self.draw(data)
            self._drawn(failed=False)

    def _drawn(self, *, failed: bool) -> None:
        self.drawn += 1
        self.status.object = (
            f'<span class="view-drawn" data-view="{self.title.lower()}" '
            f'data-drawn="{self.drawn}" data-failed="{int(failed)}"></span>'
        )

    def _loading(self, on: bool) -> None:
        self.panel.loading = on

    def _fail(self, message: str) -> None:
        for card in self.cards:
            card.fail(message)
        self._drawn(failed=True)

    def _tick(self, change: Callable[..., object], *args: object) -> None:
        """Make a change on the document's tick (at once when no server holds the page)."""
        document = self.document
        if document is None or document.session_context is None:
            change(*args)
        else:
            document.add_next_tick_callback(lambda: change(*args))

    async def locked(self, change: Callable[[], object]) -> None:
        """Make a change on the document's tick and wait for it (its errors are raised here)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def run() -> None:
            try:
                change()
            except Exception as exc:  # noqa: BLE001 - handed to the awaiting refresh
                done.set_exception(exc)
            else:
                done.set_result(None)

        self._tick(run)
        await done

    async def load(self) -> Any:
        """Query what the tab shows (threads only: no widget is touched here)."""
        raise NotImplementedError

    def draw(self, data: Any) -> None:
        """Show what `load` returned (on the document's tick)."""
        raise NotImplementedError


async def gather(*runs: Callable[[], Any]) -> list[Any]:
    """Run several blocking queries at once, off the event loop."""
    awaitables: list[Awaitable[Any]] = [asyncio.to_thread(run) for run in runs]
    return list(await asyncio.gather(*awaitables))
