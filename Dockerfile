# syntax=docker/dockerfile:1
# CNC Copilot production image: daphne (HTTP + WebSockets) by default; the same image runs the
# Celery worker, Celery beat and migrations (see docker-compose.yml).

# --- builder: the Python dependencies in a virtualenv, and compiled translations ------------------
FROM python:3.11-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements/ /tmp/requirements/
RUN pip install --upgrade pip && pip install -r /tmp/requirements/prod.txt
COPY . /src
# .mo files from every .po (a no-op when they are already compiled or there are none).
RUN find /src -name '*.po' -print0 | xargs -0 -r -n1 sh -c 'msgfmt --check-format -o "${0%.po}.mo" "$0"'

# --- runtime ---------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime
# WeasyPrint's system libraries (PDF travellers and labels), a font, and libpq for psycopg.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libffi8 fonts-dejavu-core \
      libpq5 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 1000 app \
 && useradd --system --uid 1000 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=cnc_copilot.settings \
    DJANGO_ENV=production
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /src /app
# Code stays root-owned; only var/ (logs, media, static, beat schedule) is writable by the app user.
RUN mkdir -p /app/var/media /app/var/log /app/var/staticfiles && chown -R app:app /app/var

# Probe used by HEALTHCHECK and by compose. In production settings every plain-HTTP request is
# redirected to HTTPS and the Host header must be in ALLOWED_HOSTS, so the probe says it came
# through a TLS proxy (SECURE_PROXY_SSL_HEADER) and uses the first allowed host name.
COPY --chmod=0755 <<'PY' /usr/local/bin/healthcheck
#!/opt/venv/bin/python
import os, sys, urllib.request
host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".")
host = "localhost" if host in ("", "*") else host
port = os.environ.get("PORT", "8000")
req = urllib.request.Request(f"http://127.0.0.1:{port}/health/live",
                             headers={"Host": host, "X-Forwarded-Proto": "https"})
try:
    with urllib.request.urlopen(req, timeout=4) as resp:
        sys.exit(0 if resp.status == 200 else 1)
except Exception as exc:
    print(f"health check failed: {exc}", file=sys.stderr)
    sys.exit(1)
PY

USER app
# Static files are collected into the image. Production settings insist on SECRET_KEY and
# ALLOWED_HOSTS, so this one step gets throw-away values; the real ones come at run time.
ARG COLLECTSTATIC_SECRET_KEY=collectstatic-build-step-only-not-a-real-secret
ARG COLLECTSTATIC_ALLOWED_HOSTS=localhost
RUN SECRET_KEY="$COLLECTSTATIC_SECRET_KEY" ALLOWED_HOSTS="$COLLECTSTATIC_ALLOWED_HOSTS" \
    python manage.py collectstatic --noinput --verbosity 1 \
 && rm -f /app/var/log/*

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["healthcheck"]
# Migrations are not run here: `docker compose run --rm migrate` (or the compose `migrate`
# service) does them once, before web, worker and beat start.
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "cnc_copilot.asgi:application"]
