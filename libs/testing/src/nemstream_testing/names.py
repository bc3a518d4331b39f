"""Names of the real NEMWeb sample files tests read, in one place (what each holds: the samples
folder's SOURCES.md). Tests ask the `samples` fixture for a path by these names."""

from __future__ import annotations

DISPATCHIS_2025 = "sample_dispatchis.csv"
"""A DispatchIS of 2025-12-27 00:05, plain CSV, newest table versions (PRICE v5, REGIONSUM v9)."""

DISPATCHIS_2020 = "PUBLIC_DISPATCHIS_202001131410_0000000317693747.csv"
"""A DispatchIS of 2020-01-13 14:10, plain CSV, older table versions (PRICE v4, REGIONSUM v4)."""

TRADINGIS = "PUBLIC_TRADINGIS_202403031335_0000000412683134.zip"
"""A 5-minute TradingIS of 2024-03-03 13:35, negative prices in three regions."""

SCADA = "PUBLIC_DISPATCHSCADA_202109021255_0000000348376188.zip"
"""One DispatchSCADA interval, 2021-09-02 12:55: 390 units, negative values among them."""

SCADA_2019 = "other/PUBLIC_DISPATCHSCADA_201904291630_0000000307295427.CSV"
"""One DispatchSCADA interval, 2019-04-29 16:30, 324 units, plain CSV."""

ROOFTOP_MEASUREMENT = "PUBLIC_ROOFTOP_PV_ACTUAL_MEASUREMENT_20240303200000_0000000412707330.zip"
"""Rooftop PV MEASUREMENT for the half-hour ending 2024-03-03 19:30, regions and sub-regions."""

ROOFTOP_SATELLITE = "PUBLIC_ROOFTOP_PV_ACTUAL_SATELLITE_20230902183000_0000000396168830.zip"
"""Rooftop PV SATELLITE for the half-hour ending 2023-09-02 18:00."""

ROOFTOP_MONTH = "PUBLIC_DVD_ROOFTOP_PV_ACTUAL_201912010000.zip"
"""MMSDM monthly rooftop PV actuals, December 2019."""

PRICE_ARCHIVE = "PUBLIC_ARCHIVE%23DISPATCHPRICE%23FILE01%23202603010000.zip"
"""MMSDM monthly DISPATCHPRICE, March 2026 (NSW1 and SA1, some days)."""

DVD_DUDETAILSUMMARY = "PUBLIC_DVD_DUDETAILSUMMARY_201706010000.CSV"
"""MMS registration table DUDETAILSUMMARY, June 2017."""

DVD_DUDETAIL = "PUBLIC_DVD_DUDETAIL_201706010000.CSV"
"""MMS registration table DUDETAIL, June 2017."""

DVD_STATION = "PUBLIC_DVD_STATION_201706010000.CSV"
"""MMS registration table STATION, June 2017."""

DVD_TRADINGINTERCONNECT = "PUBLIC_DVD_TRADINGINTERCONNECT_201706010000.CSV"
"""MMSDM monthly TRADINGINTERCONNECT, June 2017."""

TRADINGREGIONSUM_2017 = "history/PUBLIC_DVD_TRADINGREGIONSUM_201706010000.CSV"
"""MMSDM monthly TRADING,REGIONSUM (30-minute regional demand), June 2017."""

REGISTRATION_LIST = "NEM-Registration-and-Exemption-List.xlsx"
"""AEMO's registration and exemption list (xlsx)."""

REGISTRATION_LIST_XLS = "old.xls"
"""An older registration list in the legacy .xls format."""

STATIONS_JSON = "stations.json"
"""OpenNEM's station list."""

HISTORY_DAY = "history/dispatchis-2019-05-16"
"""Folder of a whole real day of live DispatchIS files: 288 zips, 2019-05-16 00:00 to 23:55."""

P5MIN_RUNS = "forecasts"
"""Folder of P5MIN runs of 2019-05-16 00:00-00:55 and one PREDISPATCHIS run."""

P5MIN_FIRST_RUN = "forecasts/PUBLIC_P5MIN_201905160000_20190515235537.zip"
"""The first P5MIN run of 2019-05-16 (RUN_DATETIME 00:00: intervals 00:00-00:55)."""

PREDISPATCH_RUN = "forecasts/PUBLIC_PREDISPATCHIS_201905010000_20190430233259.zip"
"""One 30-minute pre-dispatch run: 2019-05-01 00:00 (PREDISPATCHSEQNO 2019043040), both runs."""

CO2EII_GENERATORS = "other/CO2EII_AVAILABLE_GENERATORS_2017_43_20171103104827.CSV"
"""AEMO's CO2EII generator list: emission factor per DUID, November 2017."""
