# mfhc dashboard in production: gunicorn, a non-root user, a health check, no network at run time.
# Run behind a TLS-terminating proxy, with a secret of your own:
#   docker run -e MFHC_SECRET_KEY=... -v /srv/mfhc:/data -v /etc/mfhc:/config -p 8050:8050 mfhc
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    MFHC_DB=/data/mfhc.duckdb MFHC_CONFIG=/config/mfhc.toml \
    MFHC_ENV=production MFHC_TRUSTED_PROXIES=1

# Chromium renders the board pack's charts (kaleido), Pango and DejaVu fonts its PDF (WeasyPrint).
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl chromium libpango-1.0-0 libpangoft2-1.0-0 \
       fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 mfhc \
    && mkdir -p /data /config && chown mfhc:mfhc /data /config

WORKDIR /app
COPY pyproject.toml README.md ./
COPY pipelines ./pipelines
COPY dashboard ./dashboard
COPY queries ./queries
COPY assets ./assets
RUN pip install --no-cache-dir -e .

USER mfhc
VOLUME ["/data"]
EXPOSE 8050
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS -H "X-Forwarded-Proto: https" http://127.0.0.1:8050/healthz > /dev/null || exit 1

# Build the synthetic demo store when no store is mounted, make the first admin account when
# there is none (its password is printed once in the log), then serve.
CMD ["sh", "-c", "test -f \"$MFHC_DB\" || mfhc demo --db \"$MFHC_DB\"; mfhc users first-admin --db \"$MFHC_DB\"; exec gunicorn --bind 0.0.0.0:8050 --workers 2 --timeout 120 dashboard.app:server"]
