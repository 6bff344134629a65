# Tessera image for the full stack (docker-compose.yml): Dagster webserver, daemon and the CLI.
FROM python:3.11-slim
# Set PIP_EXTRA_INDEX_URL to PyTorch's CPU wheel index at build time to avoid pulling CUDA packages.
ARG PIP_EXTRA_INDEX_URL=""
ENV PIP_EXTRA_INDEX_URL=${PIP_EXTRA_INDEX_URL} PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential curl && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/tessera/app
COPY pyproject.toml README.md ./
COPY core core
COPY orchestration orchestration
COPY assets assets
COPY quality quality
COPY sources sources
COPY bench bench
COPY dbt_project dbt_project
RUN pip install -e . && mkdir -p /opt/dagster/home /opt/tessera/home
COPY docker/dagster.yaml /opt/dagster/home/dagster.yaml
ENV DAGSTER_HOME=/opt/dagster/home
