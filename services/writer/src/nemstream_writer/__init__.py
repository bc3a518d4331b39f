"""The writer service: events from NATS into the parquet store, exactly once."""

from nemstream_writer._service import run_writer, unit_regions
from nemstream_writer._writer import Writer, consumer_spec
from nemstream_writer.settings import WriterSettings

__all__ = ["Writer", "WriterSettings", "consumer_spec", "run_writer", "unit_regions"]
