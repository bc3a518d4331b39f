"""Generate ``proto_schemas/``: one JSON Schema per subject, a catalog, and a README, so that
systems in other languages can subscribe without reading Python."""

from __future__ import annotations

import json
from pathlib import Path

from nemstream_contracts._subjects import SUBJECTS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_documents() -> dict[str, str]:
    """File name -> content of everything `export_schemas` writes (deterministic)."""
    files: dict[str, str] = {}
    catalog = []
    for subject in SUBJECTS.values():
        schema = subject.model.model_json_schema(mode="serialization")
        schema = {
            "$schema": SCHEMA_DIALECT,
            "$id": f"https://nemstream.example/schemas/{subject.schema_file}",
            "title": subject.name,
            "description": f"{subject.description}. {schema.get('description', '')}".strip(),
            **{k: v for k, v in schema.items() if k not in {"title", "description"}},
        }
        files[subject.schema_file] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
        catalog.append(
            {
                "subject": subject.name,
                "schema": subject.schema_file,
                "producer": subject.publisher,
                "consumers": list(subject.consumers),
                "description": subject.description,
            }
        )
    files["catalog.json"] = json.dumps(catalog, indent=2) + "\n"
    rows = "\n".join(
        f"| `{c['subject']}` | [{c['schema']}]({c['schema']}) | {c['producer']} | "
        f"{', '.join(c['consumers'])} | {c['description']} |"
        for c in catalog
    )
    files["README.md"] = _README.format(rows=rows)
    return files


def export_schemas(directory: Path) -> list[Path]:
    """Write the schemas, catalog and README into `directory`; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in schema_documents().items():
        path = directory / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


_README = """# proto_schemas

JSON Schemas (draft 2020-12) of every subject nemstream publishes on NATS JetStream, generated
from the pydantic models in `libs/contracts` by `nemstream schemas export` (do not edit by hand:
a test fails when these files are stale).

Messages are JSON, one per interval of one feed (all regions / units / interconnectors of that
interval in `rows`). Every message has `schema_version`, `feed`, `source_file` and `interval`:
the interval *ending*, NEM time, ISO 8601 with `+10:00`. The stream is `NEM` (subjects `nem.>`,
limits retention: a new consumer can replay history). Each message carries a `Nats-Msg-Id`
header (`feed:file:table:YYYYMMDDHHMM`); a subject's version suffix (`.v1`) changes only with
an incompatible schema.

| subject | schema | producer | consumers | content |
|---|---|---|---|---|
{rows}

## Subscribing from another language

With the `nats` CLI:

```sh
nats consumer add NEM prices --pull --filter nem.dispatch.price.v1 --ack explicit --deliver all
nats consumer next NEM prices --count 10
```

From Go (`github.com/nats-io/nats.go/jetstream`), a durable consumer of live prices:

```go
js, _ := jetstream.New(nc)
cons, _ := js.CreateOrUpdateConsumer(ctx, "NEM", jetstream.ConsumerConfig{{
    Durable: "my-prices", FilterSubject: "nem.dispatch.price.v1",
    AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverNewPolicy,
}})
cons.Consume(func(m jetstream.Msg) {{ /* validate m.Data() against the schema */ m.Ack() }})
```

Validate bodies against the schema here (any JSON Schema 2020-12 validator), acknowledge only
after your own effect is durable, and de-duplicate on (`interval`, `source_file`) if you
replay.
"""
