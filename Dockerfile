FROM python:3.11-slim
# a font with Cyrillic for the ЕПД PDF
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core core
COPY adapters adapters
COPY ingest ingest
COPY api api
COPY simulators simulators
COPY docker/entrypoint.sh /usr/local/bin/uchet-entrypoint
RUN pip install --no-cache-dir . \
 && useradd --system uchet && mkdir -p /var/lib/uchet && chown uchet /var/lib/uchet
USER uchet
ENV UCHET_HOME=/var/lib/uchet
ENTRYPOINT ["uchet-entrypoint"]
