# stafett: the adapter service and the mock server, one image.
#   docker build -t stafett .
#   docker run --rm stafett --help
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 stafett
WORKDIR /app

COPY pyproject.toml README.md ./
COPY adapter ./adapter
RUN pip install '.[postgres]'

COPY alembic.ini ./
COPY config ./config
COPY examples ./examples
RUN mkdir -p /app/var && chown stafett:stafett /app/var

USER stafett
EXPOSE 8080 8900
ENTRYPOINT ["stafett"]
CMD ["--help"]
