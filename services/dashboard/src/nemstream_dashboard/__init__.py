"""The analysts' dashboard: a Panel app over `nemstream_query`, live as new intervals land."""

from nemstream_dashboard.settings import DashboardSettings

__all__ = ["DashboardSettings"]
