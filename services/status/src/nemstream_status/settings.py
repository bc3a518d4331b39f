"""The status page's configuration (environment variables, NEMSTREAM_ prefix)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator

from nemstream_contracts import half_hourly
from nemstream_control import ApiKeys
from nemstream_runtime import ServiceSettings

DEFAULT_SERVICES = ",".join(
    [
        "fetch:dispatch=http://127.0.0.1:9101/readyz",
        "fetch:trading=http://127.0.0.1:9102/readyz",
        "fetch:scada=http://127.0.0.1:9103/readyz",
        "fetch:rooftop=http://127.0.0.1:9104/readyz",
        "fetch:p5min=http://127.0.0.1:9105/readyz",
        "fetch:predispatch=http://127.0.0.1:9106/readyz",
        "writer=http://127.0.0.1:9110/readyz",
        "aggregator=http://127.0.0.1:9111/readyz",
        "alerts=http://127.0.0.1:9120/readyz",
        "mailer=http://127.0.0.1:9121/readyz",
        "dashboard=http://127.0.0.1:5006/readyz",
        "api=http://127.0.0.1:8000/readyz",
    ]
)
"""Every service `nemstream up` runs, at its default health port on this machine."""

DEFAULT_CONSUMERS = "writer,aggregator,alerts,mailer"
"""The durable consumers of the NEM stream (their default names)."""


def _pairs(value: str) -> dict[str, str]:
    """``name=url,name2=url2`` as a dict, in order; ValueError naming a bad item."""
    out: dict[str, str] = {}
    for item in (p.strip() for p in value.split(",")):
        if not item:
            continue
        name, sep, url = item.partition("=")
        name, url = name.strip(), url.strip()
        if not sep or not name or not url.startswith(("http://", "https://")):
            raise ValueError(f"{item!r} is not name=http(s)://host:port/readyz")
        out[name] = url
    return out


class StatusSettings(ServiceSettings):
    """Where the page listens, what it watches, when a feed is late, and who may act."""

    metrics_port: int = Field(-1, description="the page serves /healthz, /readyz, /metrics itself")
    status_port: int = Field(5011, description="port of the status page (0: any free port)")
    data_dir: Path = Field(Path("data"), description="NEMSTREAM_DATA_DIR: the store is store/")
    api_keys: SecretStr = Field(
        SecretStr(""),
        description="NEMSTREAM_API_KEYS: comma list of name:key (16+ characters); actions need "
        "one, and are disabled while it is empty",
    )
    status_services: str = Field(
        DEFAULT_SERVICES,
        description="readiness URLs probed, comma list of name=url (default: every service of "
        "`nemstream up` at its default port on 127.0.0.1)",
    )
    status_consumers: str = Field(
        DEFAULT_CONSUMERS, description="durable consumers of the NEM stream shown, comma list"
    )
    status_refresh_s: float = Field(15.0, ge=1, description="the page reloads its data this often")
    status_gap_days: int = Field(7, ge=1, description="default range of the gap check, in days")
    status_max_range_days: float = Field(
        92.0, gt=0, description="longest range a gap or integrity check may cover"
    )
    status_gap_runs: int = Field(50, ge=1, description="gaps listed per table at most")
    status_probe_timeout_s: float = Field(2.0, gt=0, description="timeout of each /readyz probe")
    status_cache_s: float = Field(
        5.0, ge=0, description="a report is reused this long by every page asking (0: never)"
    )
    status_pending_amber: int = Field(
        1000, ge=0, description="a consumer this far behind (messages pending) is amber"
    )
    status_amber_after_s: float = Field(
        600.0, gt=0, description="a 5-minute feed whose newest interval is this old is amber"
    )
    status_red_after_s: float = Field(1800.0, gt=0, description="... and this old, red")
    status_amber_after_rooftop_s: float = Field(
        2700.0,
        gt=0,
        description="half-hourly feeds (rooftop, pre-dispatch): amber after this",
    )
    status_red_after_rooftop_s: float = Field(5400.0, gt=0, description="... and red after this")

    @field_validator("api_keys")
    @classmethod
    def _keys_parse(cls, value: SecretStr) -> SecretStr:
        """Refuse malformed keys at start-up (one line), not at the first action."""
        ApiKeys.parse(value.get_secret_value())
        return value

    @field_validator("status_services")
    @classmethod
    def _services_parse(cls, value: str) -> str:
        """Refuse a malformed service list at start-up."""
        _pairs(value)
        return value

    @model_validator(mode="after")
    def _red_after_amber(self) -> StatusSettings:
        """A feed turns amber before it turns red."""
        if self.status_red_after_s <= self.status_amber_after_s:
            raise ValueError("NEMSTREAM_STATUS_RED_AFTER_S must exceed ..._AMBER_AFTER_S")
        if self.status_red_after_rooftop_s <= self.status_amber_after_rooftop_s:
            raise ValueError(
                "NEMSTREAM_STATUS_RED_AFTER_ROOFTOP_S must exceed ..._AMBER_AFTER_ROOFTOP_S"
            )
        return self

    @property
    def store_dir(self) -> Path:
        """The parquet store the writer keeps."""
        return self.data_dir / "store"

    @property
    def keys(self) -> ApiKeys:
        """The keys actions accept (none: actions disabled)."""
        return ApiKeys.parse(self.api_keys.get_secret_value())

    @property
    def services(self) -> dict[str, str]:
        """Service name -> readiness URL."""
        return _pairs(self.status_services)

    @property
    def consumers(self) -> list[str]:
        """Durable consumer names shown."""
        return [c.strip() for c in self.status_consumers.split(",") if c.strip()]

    def thresholds(self, feed: str) -> tuple[float, float]:
        """Seconds after which a feed's newest interval is amber, and red."""
        if half_hourly(feed):  # rooftop PV, pre-dispatch
            return self.status_amber_after_rooftop_s, self.status_red_after_rooftop_s
        return self.status_amber_after_s, self.status_red_after_s

    def log_fields(self) -> dict[str, Any]:
        """What start-up logs: everything but the keys themselves (only their names)."""
        fields = self.model_dump(exclude={"api_keys"})
        fields["api_keys"] = self.keys.names
        return {k: str(v) if isinstance(v, Path) else v for k, v in fields.items()}
