"""The HTTP API for other systems: REST over the store through the query layer (JSON pages,
CSV, parquet; null rows for missing intervals; ETags), the newest interval from the bus, live
bus events by Server-Sent Events and WebSocket with exact resume by stream sequence, API keys and
rate limits, and the status report with its actions."""

from nemstream_api._app import create_app
from nemstream_api._live import Event, Hub
from nemstream_api._service import run_api, running_api
from nemstream_api.settings import ApiSettings

__all__ = ["ApiSettings", "Event", "Hub", "create_app", "run_api", "running_api"]
