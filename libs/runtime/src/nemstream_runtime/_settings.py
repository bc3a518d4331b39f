"""The settings convention: one pydantic-settings class per component, all under NEMSTREAM_."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "NEMSTREAM_"


class NemstreamSettings(BaseSettings):
    """Base for every component's settings so all read the same prefix and ignore unrelated keys."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)
