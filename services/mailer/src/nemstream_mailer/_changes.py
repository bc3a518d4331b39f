"""Units whose registry entry changed (capacity, fuel, region, station) since the last look,
announced by mail once. The last seen values per DUID live in NATS KV; the first look only
records them. A change is claimed with a compare-and-set before it is mailed, so replicas do not
both send it, and released again if the mail cannot be sent, so it is not lost."""

from __future__ import annotations

import json
from dataclasses import dataclass

import polars as pl
from nats.js.kv import KeyValue

from nemstream_bus import kv_create, kv_get, kv_swap
from nemstream_mailer._mailer import MAILS, kv_key
from nemstream_notify import MailError, MailSender
from nemstream_runtime import get_logger

log = get_logger(__name__)

WATCHED = ("capacity_mw", "fuel", "region", "station_name")


@dataclass(frozen=True, slots=True)
class Change:
    """One field of one unit that changed."""

    duid: str
    field: str
    before: object
    after: object


def _values(row: dict[str, object]) -> dict[str, object]:
    return {k: row.get(k) for k in WATCHED}


async def registry_changes(kv: KeyValue, registry: pl.DataFrame, mail: MailSender) -> list[Change]:
    """Compare the registry with what was last seen; mail and return the changes."""
    changes: list[Change] = []
    claimed: list[tuple[str, bytes | None, int]] = []  # key, previous value, new revision
    for row in registry.select("duid", *WATCHED).iter_rows(named=True):
        key = f"registry.{kv_key(str(row['duid']))}"
        now = json.dumps(_values(row), sort_keys=True, default=str).encode()
        entry = await kv_get(kv, key)
        if entry is None:
            await kv_create(kv, key, now)  # first look: a baseline, nothing to say
            continue
        if entry.value == now:
            continue
        before = json.loads(entry.value or b"{}")
        revision = await kv_swap(kv, key, now, revision=entry.revision)
        if revision is None:
            continue  # another replica took this change
        claimed.append((key, entry.value, revision))
        after = _values(row)
        changes += [
            Change(str(row["duid"]), f, before.get(f), after[f])
            for f in WATCHED
            if str(before.get(f)) != str(after[f])
        ]
    if not changes:
        return []
    lines = ["Units whose registry entry changed:", ""]
    lines += [f"{c.duid:<12} {c.field:<13} {c.before} → {c.after}" for c in changes]
    units = sorted({c.duid for c in changes})
    try:
        await mail.send(f"NEM unit registry changes: {', '.join(units)}", "\n".join(lines))
    except MailError:
        for key, previous, revision in claimed:  # give the changes back, to be sent later
            await kv_swap(kv, key, previous or b"{}", revision=revision)
        MAILS.labels("registry_changes", "failed").inc()
        raise
    MAILS.labels("registry_changes", "sent").inc()
    log.info("registry_changes_mailed", units=units, changes=len(changes))
    return changes
