# stafett: the adapter service and the mock server, one image.
#   docker build -t stafett .
#   docker run --rm stafett --help
# The base image pinned by version and digest (the multi-platform index of
# python:3.11.15-slim-bookworm): rebuilds get the same OS and Python until this line moves.
FROM python:3.11.15-slim-bookworm@sha256:d29f48a31a8b408ed19272ca1e7b10ebae13b240a27e862d3d4217c528e2e0c3

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 stafett
WORKDIR /app

# The dependencies exactly as locked (hash-checked), then stafett itself without resolving.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY adapter ./adapter
RUN pip install --no-deps .

COPY alembic.ini ./
COPY config ./config
COPY examples ./examples
RUN mkdir -p /app/var && chown stafett:stafett /app/var

USER stafett
EXPOSE 8080 8900
# Alive: the adapter's /healthz on its port (compose adds readiness, /readyz, on top).
HEALTHCHECK --interval=15s --timeout=3s --start-period=15s --retries=4 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('STAFETT_HTTP__PORT', '8080') + '/healthz', timeout=2)"]
ENTRYPOINT ["stafett"]
CMD ["--help"]
