# Vigie service image.
#
#   docker build -t vigie .
#
# The image runs in production, where `vigie serve` refuses to start without its two keys
# (README, Security: Keys and start-up). Make them once, into an environment file only you read:
#
#   umask 077
#   printf 'VIGIE_SECRET_KEY=%s\nVIGIE_CREDENTIALS_KEYS=%s\n' \
#       "$(docker run --rm vigie vigie keys generate --secret)" \
#       "$(docker run --rm vigie vigie keys generate)" > vigie.env
#
# then serve (SQLite in the volume; add -e VIGIE_DATABASE_URL=postgresql+psycopg://... for
# PostgreSQL):
#
#   docker run -p 8000:8000 --env-file vigie.env -v vigie-data:/var/lib/vigie vigie
#
# Several nodes on one PostgreSQL behind nginx, with Prometheus: deploy/compose.yaml (README:
# Operations: several nodes).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIGIE_DATA_DIR=/var/lib/vigie

# libturbojpeg0: a snapshot's grey and colour in one JPEG decoding (supervision/jpeg.py).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libturbojpeg0 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system vigie \
    && useradd --system --gid vigie --home-dir /var/lib/vigie --shell /usr/sbin/nologin vigie \
    && mkdir -p /var/lib/vigie \
    && chown vigie:vigie /var/lib/vigie

WORKDIR /opt/vigie
COPY pyproject.toml README.md LICENSE ./
COPY vigie ./vigie
COPY planning ./planning
COPY cameras ./cameras
COPY supervision ./supervision
COPY gis_data ./gis_data
RUN pip install . && rm -rf /opt/vigie/build \
    && python -c 'from planning.steiner import warm_up; warm_up()'

USER vigie
WORKDIR /var/lib/vigie
EXPOSE 8000
VOLUME ["/var/lib/vigie"]

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# Migrates the database, then serves on all interfaces of the container (TLS: --tls-cert/--tls-key).
CMD ["vigie", "serve", "--host", "0.0.0.0", "--port", "8000", "--migrate"]
