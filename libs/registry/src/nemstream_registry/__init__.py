"""The unit registry: DUID to station, region, fuel, technology, dispatch type and capacity,
built from AEMO registration lists, MMS registration tables and OpenNEM's stations.json; and
emission factors per DUID from AEMO's CO2EII generator list."""

from nemstream_registry._aemo_list import list_date, read_aemo_list
from nemstream_registry._build import (
    RegistryReport,
    SourceSummary,
    build_registry,
    merge,
    read_registry,
    write_registry,
)
from nemstream_registry._default import (
    AEMO_LIST_URL,
    RegistrySettings,
    default_registry_path,
    load_registry,
    newest_list,
)
from nemstream_registry._emissions import (
    FACTORS_SCHEMA,
    emission_factors_path,
    read_co2eii,
    read_emission_factors,
    write_emission_factors,
)
from nemstream_registry._errors import RegistryError, RegistrySourceError, RegistryUnavailable
from nemstream_registry._labels import (
    DISPATCH_TYPES,
    FUELS,
    NEM_REGIONS,
    aemo_fuel,
    capacity,
    dispatch_type,
    opennem_fuel,
    region,
)
from nemstream_registry._schema import COLUMNS, SCHEMA
from nemstream_registry._sources import read_mms_tables, read_opennem, registry_from_mms

__all__ = [
    "AEMO_LIST_URL",
    "COLUMNS",
    "DISPATCH_TYPES",
    "FACTORS_SCHEMA",
    "FUELS",
    "NEM_REGIONS",
    "SCHEMA",
    "RegistryError",
    "RegistryReport",
    "RegistrySettings",
    "RegistrySourceError",
    "RegistryUnavailable",
    "SourceSummary",
    "aemo_fuel",
    "build_registry",
    "capacity",
    "default_registry_path",
    "dispatch_type",
    "emission_factors_path",
    "list_date",
    "load_registry",
    "merge",
    "newest_list",
    "opennem_fuel",
    "read_aemo_list",
    "read_co2eii",
    "read_emission_factors",
    "read_mms_tables",
    "read_opennem",
    "read_registry",
    "region",
    "registry_from_mms",
    "write_emission_factors",
    "write_registry",
]
