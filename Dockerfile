# The ledger-pipeline code location: Dagster's gRPC code server, and the image the K8sRunLauncher
# runs each run in (deploy/helm/values.yaml). Build from the repository root:
#   docker build -t registry.example.com/ledger-pipeline:0.1.0 .
FROM python:3.12-slim

COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv

# The project is installed editable (uv's default), so ledger_pipeline finds sql/ beside it.
WORKDIR /opt/ledger-pipeline
ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy PATH=/opt/venv/bin:$PATH

# Dependencies first, in their own layer: they change less often than the code.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --extra kubernetes --no-install-project
COPY ledger_pipeline ledger_pipeline
COPY sql sql
RUN uv sync --locked --no-dev --extra kubernetes

EXPOSE 3030
CMD ["dagster", "api", "grpc", "-m", "ledger_pipeline.definitions", "-h", "0.0.0.0", "-p", "3030"]
