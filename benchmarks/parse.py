"""Parse throughput of nemstream's MMS reader beside NEMOSIS's reader and bare polars.

Run with NEMOSIS available only in the benchmark environment:

    uv run --with nemosis python benchmarks/parse.py            # or: make bench-parse

Inputs are the real monthly files in the samples folder ($NEMSTREAM_SAMPLES_DIR, default
../shared/nemweb), unzipped into a scratch folder, plus a ~100 MB file made at run time by
repeating the real DISPATCH,PRICE rows of the monthly archive sample (never committed).

For each input and each reader the best of several runs is reported (runs interleaved, so a
busy machine penalises every reader alike):

* nemstream  - `read_report` plus typing every table (timestamps parsed, numbers typed,
               structure checked row by row: field counts, table names, footer);
* NEMOSIS    - `nemosis.data_fetch_methods._read_mms_csv`, the pandas reader NEMOSIS uses
               (one table per file, timestamps left as text, no checks);
* polars     - `polars.read_csv` of the file's D rows only, with its own type inference
               (first 10,000 rows), timestamps left as text: the practical limit of CSV
               parsing on this machine.

Then the time to read one live DispatchIS file (7 tables), structure only, with all 7 tables
typed, and with the 3 tables the dispatch fetcher publishes typed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from nemstream_mms import read_report

MONTHLY = [
    "PUBLIC_DVD_DUDETAILSUMMARY_201706010000.CSV",
    "PUBLIC_DVD_DUDETAIL_201706010000.CSV",
    "PUBLIC_DVD_STATION_201706010000.CSV",
    "PUBLIC_DVD_TRADINGINTERCONNECT_201706010000.CSV",
    "PUBLIC_DVD_ROOFTOP_PV_ACTUAL_201912010000.zip",
    "PUBLIC_ARCHIVE%23DISPATCHPRICE%23FILE01%23202603010000.zip",
]
LIVE = "sample_dispatchis.csv"
FETCHER_TABLES = ("PRICE", "REGIONSUM", "INTERCONNECTORRES")


def _samples_dir() -> Path:
    configured = os.environ.get("NEMSTREAM_SAMPLES_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[1].parent / "shared" / "nemweb"


def _unzipped(source: Path, work: Path) -> Path:
    """NEMOSIS reads unzipped CSVs from disk: give every reader the same plain file."""
    if source.suffix.lower() != ".zip":
        return source
    with zipfile.ZipFile(source) as archive:
        member = archive.namelist()[0]
        target = work / Path(member).name.replace("#", "_")
        target.write_bytes(archive.read(member))
    return target


def _big_input(archive: Path, work: Path, megabytes: int) -> Path:
    """~N MB of one table made by repeating the real D rows of a monthly archive file."""
    plain = _unzipped(archive, work).read_bytes().replace(b"\r\n", b"\n")
    lines = plain.split(b"\n")
    header, i_row = lines[0], lines[1]
    body = b"\n".join(line for line in lines if line.startswith(b"D,")) + b"\n"
    copies = max(1, megabytes * 1_000_000 // len(body))
    rows = body.count(b"\n") * copies
    target = work / f"REPEATED_DISPATCHPRICE_{megabytes}MB.CSV"
    with target.open("wb") as out:
        out.write(header + b"\n" + i_row + b"\n")
        for _ in range(copies):
            out.write(body)
        out.write(b'C,"END OF REPORT",' + str(rows + 3).encode() + b"\n")
    return target


def _nemstream(path: Path) -> int:
    report = read_report(path)
    return sum(report.tables[key].height for key in report.tables)


def _d_rows(path: Path) -> tuple[bytes, list[str]]:
    data = path.read_bytes()
    lines = data.splitlines()
    i_row = next(line for line in lines if line.startswith(b"I,"))
    body = b"\n".join(line for line in lines if line.startswith(b"D,"))
    return body, i_row.decode().split(",")


def _polars(body: bytes, names: list[str]) -> int:
    frame = pl.read_csv(body, has_header=False, new_columns=names, infer_schema_length=10_000)
    return frame.height


def _nemosis_reader() -> Callable[[Path], int] | None:
    try:
        from nemosis.data_fetch_methods import _read_mms_csv
    except ImportError:
        return None

    def read(path: Path) -> int:
        return len(_read_mms_csv(str(path)))

    return read


def _best(functions: dict[str, Callable[[], int]], repeat: int) -> dict[str, tuple[float, int]]:
    """Best wall time (s) and rows of each function, runs interleaved."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    rows: dict[str, int] = {}
    for _ in range(repeat):
        for name, function in functions.items():
            start = time.perf_counter()
            rows[name] = function()
            times[name].append(time.perf_counter() - start)
    return {name: (min(values), rows[name]) for name, values in times.items()}


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, Python "
        f"{platform.python_version()}, polars {pl.__version__}"
    )


def _throughput_rows(work: Path, samples: Path, repeat: int, big_mb: int) -> list[list[str]]:
    nemosis = _nemosis_reader()
    inputs = [_unzipped(samples / name, work) for name in MONTHLY if (samples / name).exists()]
    archive = samples / MONTHLY[-1]
    if archive.exists() and big_mb:
        inputs.append(_big_input(archive, work, big_mb))
    table: list[list[str]] = []
    for path in inputs:
        body, names = _d_rows(path)
        functions: dict[str, Callable[[], int]] = {
            "nemstream": partial(_nemstream, path),
            "polars": partial(_polars, body, names),
        }
        if nemosis is not None:
            functions["nemosis"] = partial(nemosis, path)
        runs = repeat if path.stat().st_size < 50_000_000 else max(2, repeat // 3)
        result = _best(functions, runs)
        megabytes = path.stat().st_size / 1e6
        ours, rows = result["nemstream"]
        polars_time = result["polars"][0]
        nemosis_time = result["nemosis"][0] if "nemosis" in result else float("nan")
        table.append(
            [
                path.name[:48],
                f"{megabytes:.1f}",
                f"{rows:,}",
                f"{ours * 1e3:.1f}",
                f"{megabytes / ours:.0f}",
                f"{rows / ours / 1e6:.2f}",
                f"{nemosis_time * 1e3:.1f}",
                f"{nemosis_time / ours:.2f}x",
                f"{polars_time * 1e3:.1f}",
                f"{ours / polars_time:.2f}x",
            ]
        )
        print("  measured", path.name, file=sys.stderr)
    return table


def _live_rows(samples: Path, repeat: int) -> list[list[str]]:
    data = (samples / LIVE).read_bytes()

    def structure() -> Any:
        return read_report(data, name=LIVE)

    def all_tables() -> Any:
        report = read_report(data, name=LIVE)
        return [report.tables[key] for key in report.tables]

    def fetcher_tables() -> Any:
        report = read_report(data, name=LIVE)
        return [report.tables[k] for k in report.tables if k.subtype in FETCHER_TABLES]

    out = []
    for label, function in [
        ("structure checked, no table typed", structure),
        ("all 7 tables typed", all_tables),
        ("3 fetcher tables typed (PRICE, REGIONSUM, INTERCONNECTORRES)", fetcher_tables),
    ]:
        function()
        samples_ms = []
        for _ in range(repeat):
            start = time.perf_counter()
            function()
            samples_ms.append((time.perf_counter() - start) * 1e3)
        out.append([label, f"{min(samples_ms):.2f}", f"{statistics.median(samples_ms):.2f}"])
    return out


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    """Measure and print (markdown) the parse figures the README and RESULTS.md quote."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per reader (best kept)")
    parser.add_argument("--big-mb", type=int, default=100, help="size of the repeated input")
    parser.add_argument("--live-repeat", type=int, default=300)
    parser.add_argument("--live-only", action="store_true", help="only the live-file figures")
    args = parser.parse_args()
    samples = _samples_dir()
    if not (samples / LIVE).exists():
        sys.exit(f"no samples in {samples}: set NEMSTREAM_SAMPLES_DIR")
    if _nemosis_reader() is None:
        print("NEMOSIS not installed: run with `uv run --with nemosis ...`", file=sys.stderr)
    throughput: list[list[str]] = []
    if not args.live_only:
        with tempfile.TemporaryDirectory(prefix="nemstream-bench-") as scratch:
            throughput = _throughput_rows(Path(scratch), samples, args.repeat, args.big_mb)
    live = _live_rows(samples, args.live_repeat)
    print(f"## Parse throughput ({date.today().isoformat()})\n")
    print(f"Machine: {_machine()}\n")
    if throughput:
        print(
            _markdown(
                [
                    "file",
                    "MB",
                    "rows",
                    "nemstream ms",
                    "MB/s",
                    "M rows/s",
                    "NEMOSIS ms",
                    "NEMOSIS / nemstream",
                    "bare polars ms",
                    "nemstream / polars",
                ],
                throughput,
            )
        )
    print(f"\n### One live DispatchIS file ({LIVE}, 146 KB, 7 tables)\n")
    print(_markdown(["what", "best ms", "median ms"], live))


if __name__ == "__main__":
    main()
