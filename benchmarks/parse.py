"""Parse throughput of nemstream's MMS reader beside bare polars and NEMOSIS's reader.

Run with NEMOSIS available only in the benchmark environment:

    uv run --with nemosis python benchmarks/parse.py            # or: make bench-parse

Inputs are the real monthly files in the samples folder ($NEMSTREAM_SAMPLES_DIR, default
../shared/nemweb), unzipped into a scratch folder, and two ~100 MB files made at run time from
real rows (never committed), the size a multi-year backfill reads file after file:

* REPEATED_DISPATCHPRICE - the DISPATCH,PRICE rows of the monthly archive sample, repeated
  (as that sample was re-written by NEMOSIS: nothing quoted, LF line ends);
* REPEATED_TRADINGINTERCONNECT - the TRADING,INTERCONNECTORRES rows of the June 2017 DVD file,
  repeated, as AEMO writes them (timestamps quoted, CRLF line ends).

Every reader reads the same plain file from disk, each at its fastest honest settings:

* nemstream        - `read_report`, then every table typed: timestamps parsed to datetimes,
                     numbers typed, structure checked (field counts, table names, footer).
* polars defaults  - `pl.read_csv(path, skip_rows=1)`: the I row as header, polars' own type
                     inference (its first 100 rows), the footer row dropped; "fails" where
                     that inference guesses a column wrong (an integer column that later holds
                     a decimal), as it does on half of the real monthly files.
* polars schema    - the same read with an explicit schema: the types polars infers from all
                     rows, worked out before timing (timestamps stay text).
* NEMOSIS          - `nemosis.data_fetch_methods._read_mms_csv(path)`, the reader NEMOSIS uses
                     for MMS CSVs, called as its `cache_compiler` calls it: pandas' C parser,
                     numbers typed by pandas, timestamps left as text, no checks. (NEMOSIS's
                     `dynamic_data_compiler` reads every column as text and infers types
                     afterwards, which is several times slower: not the peer used here.)

Each figure is the median of the runs (at least 5), after one untimed round; the readers are
interleaved run by run, so a busy machine slows them alike, in a new order each round (a reader
run right after NEMOSIS is slowed by what NEMOSIS leaves behind). The machine and its load
average before and after the runs are printed with the table: compare figures from a quiet
machine.

Then the time to read one live DispatchIS file (7 tables), structure only, with all 7 tables
typed, and with the 3 tables the dispatch fetcher publishes typed.

`--baseline SRC` also measures another version of the reader, interleaved with this one run by
run (the fair before/after on a shared machine): SRC is a folder holding its `nemstream_mms`
package, e.g. from `git archive COMMIT libs/mms/src | tar -x -C /tmp/old`, then
`--baseline /tmp/old/libs/mms/src`. It is imported from a renamed copy in the scratch folder.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl

from nemstream_mms import read_report
from nemstream_testing import names

MONTHLY = [
    names.DVD_DUDETAILSUMMARY,
    names.DVD_DUDETAIL,
    names.DVD_STATION,
    names.DVD_TRADINGINTERCONNECT,
    names.ROOFTOP_MONTH,
    names.PRICE_ARCHIVE,
]
REPEATED = [  # (sample whose D rows are repeated, name of the input made from them)
    (names.PRICE_ARCHIVE, "REPEATED_DISPATCHPRICE"),
    (names.DVD_TRADINGINTERCONNECT, "REPEATED_TRADINGINTERCONNECT"),
]
LIVE = names.DISPATCHIS_2025
FETCHER_TABLES = ("PRICE", "REGIONSUM", "INTERCONNECTORRES")
MIN_RUNS = 5

Reader = Callable[[], int]


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


def _repeated(source: Path, work: Path, stem: str, megabytes: int) -> Path:
    """~N MB of one table: the header, the I row and the real D rows of `source` repeated,
    written with the source's own line ends and quoting, and a footer with the right count."""
    data = _unzipped(source, work).read_bytes()
    newline = b"\r\n" if b"\r\n" in data[:4096] else b"\n"
    lines = data.split(newline)
    header, i_row = lines[0], next(line for line in lines if line.startswith(b"I,"))
    body = newline.join(line for line in lines if line.startswith(b"D,")) + newline
    copies = max(1, megabytes * 1_000_000 // len(body))
    rows = body.count(newline) * copies
    target = work / f"{stem}_{megabytes}MB.CSV"
    with target.open("wb") as out:
        out.write(header + newline + i_row + newline)
        for _ in range(copies):
            out.write(body)
        out.write(b'C,"END OF REPORT",' + str(rows + 3).encode() + newline)
    return target


def _nemstream(path: Path, read: Callable[..., Any] = read_report) -> int:
    report = read(path)
    return sum(report.tables[key].height for key in report.tables)


def _baseline(source: Path, work: Path) -> ModuleType:
    """Another version's `nemstream_mms` (in `source`), imported as `nemstream_mms_baseline`
    from a copy whose own imports are renamed to match."""
    package = work / "baseline" / "nemstream_mms_baseline"
    package.mkdir(parents=True)
    for module in (source / "nemstream_mms").glob("*.py"):
        text = re.sub(r"\bnemstream_mms\b", "nemstream_mms_baseline", module.read_text())
        (package / module.name).write_text(text)
    sys.path.insert(0, str(package.parent))
    return importlib.import_module("nemstream_mms_baseline")


def _polars_defaults(path: Path) -> int:
    frame = pl.read_csv(path, skip_rows=1)  # the I row names the columns
    return frame.height - 1  # the footer row


def _polars_schema(path: Path, schema: pl.Schema) -> int:
    frame = pl.read_csv(path, skip_rows=2, has_header=False, schema=schema)
    return frame.height - 1


def _full_schema(path: Path) -> pl.Schema:
    """The types polars infers from every row of the file (not timed)."""
    names = pl.read_csv(path, skip_rows=1, n_rows=0).columns
    inferred = pl.read_csv(path, skip_rows=2, has_header=False, infer_schema_length=None)
    return pl.Schema(dict(zip(names, inferred.schema.values(), strict=True)))


def _nemosis_reader() -> Callable[[Path], int] | None:
    try:
        from nemosis.data_fetch_methods import _read_mms_csv
    except ImportError:
        return None

    def read(path: Path) -> int:
        return len(_read_mms_csv(str(path)))

    return read


def _medians(readers: dict[str, Reader], runs: int) -> dict[str, tuple[float, int] | str]:
    """Median wall time (s) and rows of each reader over `runs` interleaved runs, after one
    untimed round; a reader that raises is reported by its error instead.

    The readers run in a new order each round (shuffled, the same orders every time), so that
    no reader always follows the same one: a reader pays for what the one before it left
    behind (on the 100 MB files, whichever reader ran right after NEMOSIS took 20-25 ms
    longer)."""
    times: dict[str, list[float]] = {name: [] for name in readers}
    rows: dict[str, int] = {}
    failed: dict[str, str] = {}
    order = list(readers)
    for run in range(runs + 1):
        random.Random(run).shuffle(order)  # the same orders on every run of the script
        for name in order:
            reader = readers[name]
            if name in failed:
                continue
            start = time.perf_counter()
            try:
                rows[name] = reader()
            except Exception as exc:  # noqa: BLE001 - a peer that cannot read the file
                failed[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:90]}"
                continue
            if run:
                times[name].append(time.perf_counter() - start)
    return {
        name: failed[name] if name in failed else (statistics.median(times[name]), rows[name])
        for name in readers
    }


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _machine() -> str:
    versions = [f"Python {platform.python_version()}", f"polars {pl.__version__}"]
    try:
        from importlib.metadata import version

        versions += [f"pandas {version('pandas')}", f"NEMOSIS {version('nemosis')}"]
    except Exception:  # noqa: BLE001 - NEMOSIS not installed: versions of what is
        pass
    return f"{_cpu()}, {os.cpu_count()} cores, Linux {platform.release()}, " + ", ".join(versions)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def _ms(result: tuple[float, int] | str) -> str:
    return "fails" if isinstance(result, str) else f"{result[0] * 1e3:.1f}"


def _throughput_rows(
    work: Path, samples: Path, runs: int, big_mb: int, before: ModuleType | None
) -> tuple[list[list[str]], list[str]]:
    nemosis = _nemosis_reader()
    inputs = [_unzipped(samples / name, work) for name in MONTHLY if (samples / name).exists()]
    if big_mb:
        inputs += [
            _repeated(samples / source, work, stem, big_mb)
            for source, stem in REPEATED
            if (samples / source).exists()
        ]
    table: list[list[str]] = []
    failures: list[str] = []
    for path in inputs:
        readers: dict[str, Reader] = {
            "nemstream": partial(_nemstream, path),
            **({"before": partial(_nemstream, path, before.read_report)} if before else {}),
            "polars defaults": partial(_polars_defaults, path),
            "polars schema": partial(_polars_schema, path, _full_schema(path)),
        }
        if nemosis is not None:
            readers["NEMOSIS"] = partial(nemosis, path)
        result = _medians(readers, runs)
        megabytes = path.stat().st_size / 1e6
        ours = result["nemstream"]
        assert not isinstance(ours, str), ours
        schema = result["polars schema"]
        peer = result.get("NEMOSIS", "not installed")
        table.append(
            [
                path.name[:48],
                f"{megabytes:.1f}",
                f"{ours[1]:,}",
                *([_ms(result["before"])] if before else []),
                f"{ours[0] * 1e3:.1f}",
                f"{megabytes / ours[0]:.0f}",
                _ms(result["polars defaults"]),
                _ms(schema),
                _ms(peer),
                "-" if isinstance(schema, str) else f"{ours[0] / schema[0]:.2f}x",
                "-" if isinstance(peer, str) else f"{peer[0] / ours[0]:.2f}x",
            ]
        )
        failures += [
            f"{path.name}: {name}: {r}" for name, r in result.items() if isinstance(r, str)
        ]
        print("  measured", path.name, file=sys.stderr)
    return table, failures


def _live_rows(samples: Path, repeat: int, before: ModuleType | None) -> list[list[str]]:
    """Median and best ms of each way of reading the live file (and, with a baseline, the
    baseline's, the two interleaved call by call)."""
    data = (samples / LIVE).read_bytes()

    def structure(read: Callable[..., Any]) -> Any:
        return read(data, name=LIVE)

    def all_tables(read: Callable[..., Any]) -> Any:
        report = read(data, name=LIVE)
        return [report.tables[key] for key in report.tables]

    def fetcher_tables(read: Callable[..., Any]) -> Any:
        report = read(data, name=LIVE)
        return [report.tables[k] for k in report.tables if k.subtype in FETCHER_TABLES]

    versions = [read_report, *([before.read_report] if before else [])]
    out = []
    for label, function in [
        ("structure checked, no table typed", structure),
        ("all 7 tables typed", all_tables),
        ("3 fetcher tables typed (PRICE, REGIONSUM, INTERCONNECTORRES)", fetcher_tables),
    ]:
        timings: list[list[float]] = [[] for _ in versions]
        for read in versions:
            function(read)
        for _ in range(repeat):
            for read, samples_ms in zip(versions, timings, strict=True):
                start = time.perf_counter()
                function(read)
                samples_ms.append((time.perf_counter() - start) * 1e3)
        row = [label]
        for samples_ms in reversed(timings):  # the baseline first, as in the throughput table
            row += [f"{statistics.median(samples_ms):.2f}", f"{min(samples_ms):.2f}"]
        out.append(row)
    return out


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    """Measure and print (markdown) the parse figures the README and RESULTS.md quote."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help=f"timed runs (median; >= {MIN_RUNS})")
    parser.add_argument("--big-mb", type=int, default=100, help="size of the repeated inputs")
    parser.add_argument("--live-repeat", type=int, default=300)
    parser.add_argument("--live-only", action="store_true", help="only the live-file figures")
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="SRC",
        help="also measure the nemstream_mms package in SRC (another version), interleaved",
    )
    args = parser.parse_args()
    runs = max(MIN_RUNS, args.runs)
    samples = _samples_dir()
    if not (samples / LIVE).exists():
        sys.exit(f"no samples in {samples}: set NEMSTREAM_SAMPLES_DIR")
    if _nemosis_reader() is None:
        print("NEMOSIS not installed: run with `uv run --with nemosis ...`", file=sys.stderr)
    load_before = _load()
    throughput: list[list[str]] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="nemstream-bench-") as scratch:
        before = _baseline(args.baseline, Path(scratch)) if args.baseline else None
        if not args.live_only:
            throughput, failures = _throughput_rows(
                Path(scratch), samples, runs, args.big_mb, before
            )
        live = _live_rows(samples, args.live_repeat, before)
    print(f"## Parse throughput ({date.today().isoformat()})\n")
    print(f"Machine: {_machine()}\n")
    print(f"Load average: before {load_before}; after {_load()}\n")
    if throughput:
        print(f"Median of {runs} interleaved runs per reader, after one untimed round.\n")
        print(
            _markdown(
                [
                    "file",
                    "MB",
                    "rows",
                    *(["before ms"] if args.baseline else []),
                    "nemstream ms",
                    "MB/s",
                    "polars defaults ms",
                    "polars schema ms",
                    "NEMOSIS ms",
                    "nemstream / polars schema",
                    "NEMOSIS / nemstream",
                ],
                throughput,
            )
        )
        if failures:
            print("\nReaders that failed:\n")
            print("\n".join(f"* {failure}" for failure in failures))
    print(f"\n### One live DispatchIS file ({LIVE}, 146 KB, 7 tables)\n")
    columns = ["median ms", "best ms"]
    if args.baseline:
        columns = [f"before {c}" for c in columns] + columns
    print(_markdown(["what", *columns], live))


if __name__ == "__main__":
    main()
