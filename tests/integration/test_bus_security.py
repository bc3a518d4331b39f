"""The bus library against a real nats-server with TLS and a password on, as a production NATS
runs (`NEMSTREAM_NATS_USER` / `_PASSWORD`, `NEMSTREAM_NATS_TLS_CA`): streams are declared and a
message goes round; without the CA or with a wrong password the client does not connect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.errors import Error as NatsError
from pydantic import SecretStr

from nemstream_bus import BusSettings, BusUnavailable, NatsServer, connect
from nemstream_testing.smtp import self_signed

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
async def secured(tmp_path: Path) -> AsyncIterator[tuple[NatsServer, Path]]:
    """A nats-server requiring TLS (a self-signed certificate) and a user's password."""
    cert, key = self_signed(tmp_path)
    config = tmp_path / "server.conf"
    config.write_text(
        f'tls {{\n  cert_file: "{cert}"\n  key_file: "{key}"\n  timeout: 2\n}}\n'
        f'authorization {{\n  user: nemstream\n  password: "{PASSWORD}"\n}}\n'
    )
    server = NatsServer(tmp_path / "nats", extra_args=["-c", str(config)])
    await server.start()
    try:
        yield server, cert
    finally:
        await server.stop()


async def test_the_bus_works_over_tls_with_a_password(secured: tuple[NatsServer, Path]) -> None:
    server, ca = secured
    settings = BusSettings(
        nats_url=server.url,
        nats_user="nemstream",
        nats_password=SecretStr(PASSWORD),
        nats_tls_ca=ca,
    )
    bus = await connect(settings, name="secure-test", wait_s=10)
    try:
        assert bus.nc.connected_url is not None
        assert bus.nc._server_info.get("tls_required")  # the server asked for TLS
        await bus.ensure_streams()
        assert await bus.publish("nem.test.secure.v1", b"{}", msg_id="secure-1")
        stored = await bus.js.get_msg("NEM", subject="nem.test.secure.v1", direct=False)
        assert stored.data == b"{}"
        kv = await bus.kv("nemstream_secure_test")
        await kv.put("k", b"v")
        assert (await kv.get("k")).value == b"v"
    finally:
        await bus.close()


@pytest.mark.parametrize("wrong", ["no_ca", "bad_password"])
async def test_without_the_ca_or_with_a_wrong_password_it_does_not_connect(
    secured: tuple[NatsServer, Path], wrong: str
) -> None:
    server, ca = secured
    settings = BusSettings(
        nats_url=server.url,
        nats_user="nemstream",
        nats_password=SecretStr(PASSWORD if wrong == "no_ca" else "not-the-password"),
        nats_tls_ca=None if wrong == "no_ca" else ca,
    )
    with pytest.raises((BusUnavailable, NatsError, asyncio.TimeoutError)):
        bus = await connect(settings, name="refused", wait_s=3)
        await bus.close()


def test_password_is_never_in_the_settings_repr() -> None:
    settings = BusSettings(nats_user="nemstream", nats_password=SecretStr(PASSWORD))
    assert PASSWORD not in repr(settings)
    assert settings.auth_options()["password"] == PASSWORD
