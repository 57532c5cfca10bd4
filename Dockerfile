# syntax=docker/dockerfile:1
# The JARVIS worker image: `docker compose build worker`, or `docker build -t jarvis-planner .`
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    JARVIS_DATA_DIR=/data

# An unprivileged user. /data belongs to it, so a fresh named volume mounted there
# (docker-compose.yml: jarvis-data) starts out writable for the worker.
RUN groupadd --system --gid 10001 jarvis \
 && useradd --system --uid 10001 --gid jarvis --create-home --home-dir /home/jarvis jarvis \
 && mkdir /data \
 && chown jarvis:jarvis /data

# `pip install .` from the build context, bind-mounted read-write (writes are thrown away) so
# the sources never land in an image layer; the pip cache mount speeds up rebuilds.
WORKDIR /src
RUN --mount=type=bind,source=.,target=/src,rw \
    --mount=type=cache,target=/root/.cache/pip \
    pip install .

USER 10001:10001
WORKDIR /home/jarvis

CMD ["jarvis", "worker"]
