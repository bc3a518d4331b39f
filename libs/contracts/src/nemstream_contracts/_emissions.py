"""``nem.emissions.region.v1``: emissions and the generation behind them, per region, for one
5-minute SCADA interval (published by the aggregator, see docs/emissions.md).

Rules: a unit's emissions are its *positive* SCADA MW × 5/60 h × its emission factor (t CO2-e
per MWh sent out, AEMO's CO2EII list); negative MW (charging, pumping, auxiliary load) counts
as zero. ``generation_mwh`` is the energy of the units that have a factor, the denominator of
the sent-out intensity. Units with no factor are never treated as zero-emission: they are
counted (``unfactored_units``) and their energy given (``unfactored_mwh``) beside the figures.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from nemstream_contracts._models import Finite, Message, _Row, measure
from nemstream_market import REGIONS

UNKNOWN_REGION = "UNKNOWN"
"""Where units with no factor and no region in the unit registry are put (never dropped)."""

EmissionsRegionId = Annotated[
    str,
    Field(
        pattern="^(" + "|".join((*REGIONS, UNKNOWN_REGION)) + ")$",
        description="NEM region id, or UNKNOWN for unfactored units no registry places",
    ),
]


class EmissionsRow(_Row):
    """One region's emissions and generation for the interval."""

    regionid: EmissionsRegionId
    emissions_t: Finite = measure("t CO2-e", "Σ positive MW × 5/60 h × factor, units with one")
    generation_mwh: Finite = measure("MWh", "positive energy of the units with a factor")
    intensity: Finite | None = measure(
        "t CO2-e/MWh", "emissions_t / generation_mwh (null when no such generation)", default=None
    )
    factored_units: int = Field(ge=0, description="units in the interval with a factor")
    unfactored_units: int = Field(ge=0, description="units in the interval with no factor")
    unfactored_mwh: Finite = measure("MWh", "positive energy of the units with no factor")
    load_units: int = Field(
        0,
        ge=0,
        description="units with no factor that the unit registry lists as loads (pumps, battery "
        "charging units, auxiliary loads): consumers, not generators, so neither counted as "
        "unfactored generation nor in any sum",
    )


class EmissionsRegion(Message):
    """``nem.emissions.region.v1``: every region's emissions for one 5-minute SCADA interval."""

    row_key: ClassVar[tuple[str, ...]] = ("regionid",)
    factors_file: str = Field(description="the CO2EII generator list the factors came from")
    rows: list[EmissionsRow] = Field(min_length=1)
