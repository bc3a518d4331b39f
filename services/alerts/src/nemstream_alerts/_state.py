"""The price state machine of one region, and the texts it sends.

States: ``normal`` → ``high`` (RRP ≥ high) → ``extreme`` (RRP ≥ extreme); back to ``normal``
only when RRP falls below ``recover`` after a high or extreme, which is the ``recovered`` alert.
Between ``recover`` and ``high`` nothing changes (hysteresis), and a fall from extreme to a
price still ≥ ``recover`` keeps the region extreme (elevated until it recovers). An
escalation (normal → extreme, or high → extreme) alerts once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

State = Literal["normal", "high", "extreme"]
Event = Literal["high", "extreme", "recovered"]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """$/MWh levels of the state machine."""

    high: float = 1000.0
    extreme: float = 10000.0
    recover: float = 300.0


def judge(state: State, rrp: float, limits: Thresholds) -> tuple[State, Event | None]:
    """The next state after a price, and the alert the change calls for (if any)."""
    if rrp >= limits.extreme:
        return "extreme", None if state == "extreme" else "extreme"
    if state == "normal":
        return ("high", "high") if rrp >= limits.high else ("normal", None)
    if rrp < limits.recover:
        return "normal", "recovered"
    return state, None


def threshold_of(event: Event, limits: Thresholds) -> float:
    """The level an alert crossed."""
    return {"high": limits.high, "extreme": limits.extreme, "recovered": limits.recover}[event]


def dollars_per_mwh(rrp: float) -> str:
    """A price as people write it: ``$1,500.00/MWh``, ``-$41.31/MWh``."""
    return f"{'-' if rrp < 0 else ''}${abs(rrp):,.2f}/MWh"


def alert_text(region: str, event: Event, rrp: float, interval: datetime) -> str:
    """The SMS text: region, price, interval time (NEM time) and state."""
    at = interval.strftime("%H:%M")
    price = dollars_per_mwh(rrp)
    if event == "high":
        return f"⚠️ HIGH PRICE {region} {price} at {at}"
    if event == "extreme":
        return f"🚨🚨🚨 EXTREME PRICE {region} {price} at {at}"
    return f"✅ Price recovered {region} {price} at {at}"
