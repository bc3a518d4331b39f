"""Running the aggregator as a service (or a one-off archive run)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from nemstream_aggregator._aggregator import Aggregator
from nemstream_aggregator._archive import publish_archive
from nemstream_aggregator._factors import FactorRefresher, seed_from_samples
from nemstream_aggregator.settings import AggregatorSettings
from nemstream_bus import BusSettings, one_shot, running_service
from nemstream_nemweb import NemwebClient, NemwebSettings
from nemstream_registry import emission_factors_path
from nemstream_runtime import periodic


async def run_aggregator(
    settings: AggregatorSettings,
    *,
    bus_settings: BusSettings | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or `stop`), refreshing the emission factors in the
    background."""
    async with running_service("aggregator", settings, bus_settings=bus_settings, stop=stop) as svc:
        aggregator = Aggregator(settings, svc.bus)
        svc.consume(aggregator.loop)
        output = emission_factors_path(settings.data_dir)
        await asyncio.to_thread(seed_from_samples, settings.samples_dir, output)
        every = settings.emission_factors_every_s
        if not every:
            await aggregator.run()
            return
        async with NemwebClient(NemwebSettings()) as client:
            refresh = FactorRefresher(client, output, every)
            async with periodic(
                refresh.period, refresh, "aggregator:emission-factors", first_after=0
            ):
                await aggregator.run()


async def run_archive(
    paths: list[Path], bus_settings: BusSettings | None = None
) -> tuple[int, int]:
    """Publish 30-minute history from archive files, then exit."""
    async with one_shot("aggregator-archive", bus_settings) as bus:
        return await publish_archive(bus, paths)
