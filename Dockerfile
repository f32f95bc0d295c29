# syntax=docker/dockerfile:1
# ghostwatch's image: a wheel built in one stage, installed (with its dependencies' wheels and
# nothing else) into a slim runtime that runs the daemon as a fixed unprivileged user.
# No Docker engine runs in our CI: `make lint` runs hadolint on this file and
# tests/test_deploy_install.py repeats these install steps outside Docker.

# The Python minor version of .python-version (dev, CI and the image run the same one).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Both stages start here, so the labels are said once.
FROM ${PYTHON_IMAGE} AS base
LABEL org.opencontainers.image.title="ghostwatch" \
      org.opencontainers.image.description="Follow-up drafts for sales conversations that went silent" \
      org.opencontainers.image.licenses="Apache-2.0"

FROM base AS build
WORKDIR /src
# Every dependency exactly as locked, each file checked against its hash (make lock; README
# "Dependencies"), so the image holds what was tested, not whatever is newest at build time.
COPY requirements/build.lock requirements/runtime.lock ./requirements/
RUN pip install --no-cache-dir --require-hashes -r requirements/build.lock \
    && pip wheel --no-cache-dir --require-hashes --wheel-dir /wheels -r requirements/runtime.lock
COPY pyproject.toml README.md ./
COPY src ./src
# ghostwatch's own wheel, built by the locked setuptools (no unlocked build environment).
RUN pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels .

FROM base AS runtime
# Bytecode is compiled at install time; the root filesystem can then be mounted read-only.
# The data dir (SQLite file, token vault) is the volume, for the daemon and `ghostwatch auth`.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GHOSTWATCH_CONFIG=/etc/ghostwatch/ghostwatch.yaml \
    GHOSTWATCH_DATA_DIR=/var/lib/ghostwatch
# A fixed UID/GID (10001) so volumes, Kubernetes' runAsUser and fsGroup can name it.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/ghostwatch \
        --no-create-home --shell /usr/sbin/nologin ghostwatch \
    && install -d -o ghostwatch -g ghostwatch -m 0750 /var/lib/ghostwatch \
    && install -d -m 0755 /etc/ghostwatch
# Offline (--no-index), from the build stage's wheels, their hashes checked once more.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    --mount=type=bind,from=build,source=/src/requirements,target=/requirements \
    pip install --no-cache-dir --no-index --find-links /wheels --require-hashes \
        -r /requirements/runtime.lock \
    && pip install --no-cache-dir --no-index --no-deps /wheels/ghostwatch-*.whl

# Config (read-only) and data (the SQLite file when no PostgreSQL URL is given).
VOLUME ["/etc/ghostwatch", "/var/lib/ghostwatch"]
# A relative sqlite:///ghostwatch.db (the default) lands in the data volume.
WORKDIR /var/lib/ghostwatch
USER 10001:10001
# /healthz /readyz /metrics; the server binds 127.0.0.1:8787 unless health.address in the
# mounted YAML or GHOSTWATCH_HEALTH__ADDRESS says otherwise (0.0.0.0:8787 to publish it or to
# let Kubernetes probe it).
EXPOSE 8787
# `ghostwatch health` reads the same configuration and environment as the daemon, GETs
# /healthz at that address (on loopback) and exits 0 or 1: no curl in a slim image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["ghostwatch", "health"]
ENTRYPOINT ["ghostwatch"]
# Migrations run when the daemon starts; `--once` runs every account once and exits.
CMD ["run"]
