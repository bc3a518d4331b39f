"""Labels to a small documented vocabulary: fuels, dispatch types, regions.

Fuels are one of ``coal, gas, hydro, wind, solar, battery, biomass, liquid, other`` (null when a
source says nothing). AEMO's registration lists give a primary fuel source and a descriptor, with
spelling drift between years ("Battery storage" / "Battery Storage", "Natrual Gas", trailing
spaces, "solar"); labels are normalised (case, spaces, spaces around "/") before lookup.

| AEMO primary fuel source            | fuel                                             |
|-------------------------------------|--------------------------------------------------|
| Fossil                              | from the descriptor: coal, gas or liquid         |
| Wind / Solar / Hydro                | wind / solar / hydro                             |
| Battery storage                     | battery                                          |
| Renewable/ Biomass / Waste (+ Fossil) | biomass                                        |
| "-", blank                          | from the descriptor, then the technology         |

| descriptor                                                      | fuel    |
|-----------------------------------------------------------------|---------|
| Black Coal, Brown Coal                                          | coal    |
| Natural Gas (any mix), Coal Seam Methane, Waste Coal Mine Gas, Ethane | gas |
| Diesel, Kerosene, Fuel Oil                                      | liquid  |
| Bagasse, Landfill gas, Sewerage / Waste Water, Biogas           | biomass |
| Water / Wind / Solar                                            | hydro / wind / solar |
| Grid (what loads draw)                                | by technology: battery, pumps hydro |

OpenNEM ``fueltech_id``: ``coal_*`` coal; ``gas_*`` gas; ``hydro``, ``pumps`` hydro; ``wind``;
``solar_*`` solar; ``battery*`` battery; ``bioenergy_*`` biomass; ``distillate`` liquid; any
other id (``aggregator_vpp``, ...) other.
"""

from __future__ import annotations

import re

from nemstream_market import REGIONS

FUELS = ("coal", "gas", "hydro", "wind", "solar", "battery", "biomass", "liquid", "other")
NEM_REGIONS = REGIONS
"""The five NEM regions (from `nemstream_market`)."""
DISPATCH_TYPES = ("generator", "load", "bidirectional")


def normalise(label: str | None) -> str:
    """Lower case, single spaces, no spaces around '/', no trailing punctuation marks."""
    if label is None:
        return ""
    text = re.sub(r"\s+", " ", str(label)).strip().lower()
    return re.sub(r"\s*/\s*", "/", text).strip(" *")


_PRIMARY = {
    "wind": "wind",
    "solar": "solar",
    "hydro": "hydro",
    "battery storage": "battery",
    "renewable/biomass/waste": "biomass",
    "renewable/biomass/waste and fossil": "biomass",
}

_DESCRIPTOR = {
    "black coal": "coal",
    "brown coal": "coal",
    "natural gas": "gas",
    "natural gas/diesel": "gas",
    "natrual gas/diesel": "gas",
    "natural gas/fuel oil": "gas",
    "coal seam methane": "gas",
    "waste coal mine gas": "gas",
    "ethane": "gas",
    "diesel": "liquid",
    "kerosene": "liquid",
    "fuel oil": "liquid",
    "bagasse": "biomass",
    "bagasse and diesel": "biomass",
    "landfill methane/landfill gas": "biomass",
    "sewerage/waste water": "biomass",
    "biogas - sludge": "biomass",
    "water": "hydro",
    "wind": "wind",
    "solar": "solar",
}

_OPENNEM_PREFIXES = (
    ("coal_", "coal"),
    ("gas_", "gas"),
    ("solar_", "solar"),
    ("battery", "battery"),
    ("bioenergy_", "biomass"),
)
_OPENNEM_EXACT = {"hydro": "hydro", "pumps": "hydro", "wind": "wind", "distillate": "liquid"}

_UNKNOWN = {"", "-", "n/a", "na", "none", "tbc", "tba"}


def aemo_fuel(primary: str | None, descriptor: str | None, technology: str | None) -> str | None:
    """Fuel of a registration-list row from its primary source, descriptor and technology."""
    first, detail, tech = normalise(primary), normalise(descriptor), normalise(technology)
    if first in _PRIMARY:
        return _PRIMARY[first]
    if detail == "grid" or (first in _UNKNOWN and detail in _UNKNOWN):
        if "pump" in tech:
            return "hydro"
        if "battery" in tech or "storage" in tech:
            return "battery"
        return "other" if detail == "grid" else None
    if detail in _DESCRIPTOR:
        return _DESCRIPTOR[detail]
    if "coal" in detail and "gas" not in detail and "methane" not in detail:
        return "coal"
    if "gas" in detail or "methane" in detail:
        return "gas"
    return "other"


def opennem_fuel(fueltech_id: str | None) -> str | None:
    """Fuel of an OpenNEM facility from its ``fueltech_id``."""
    if not fueltech_id:
        return None
    tech = fueltech_id.strip().lower()
    if tech in _OPENNEM_EXACT:
        return _OPENNEM_EXACT[tech]
    for prefix, fuel in _OPENNEM_PREFIXES:
        if tech.startswith(prefix):
            return fuel
    return "other"


def dispatch_type(label: str | None) -> str | None:
    """``generator``, ``load`` or ``bidirectional`` from any source's wording."""
    text = normalise(label)
    if not text or text in _UNKNOWN:
        return None
    if text.startswith("bidirectional"):
        return "bidirectional"
    if text.startswith("generat"):
        return "generator"
    if text.startswith("load"):
        return "load"
    return None


def region(label: str | None) -> str | None:
    """A NEM region id (``NSW1`` ...), or None for anything else."""
    text = (label or "").strip().upper()
    if text in NEM_REGIONS:
        return text
    if text + "1" in NEM_REGIONS:
        return text + "1"
    return None


def capacity(value: object) -> float | None:
    """MW from a cell that may be a number, a numeric string, ``-`` or blank."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace(",", "")
    if normalise(text) in _UNKNOWN:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def text(value: object) -> str | None:
    """A label with its spaces tidied, or None for blanks and placeholders."""
    if value is None:
        return None
    tidy = re.sub(r"\s+", " ", str(value)).strip()
    return None if normalise(tidy) in _UNKNOWN else tidy
