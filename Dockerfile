# noisescope in a container:
#   docker build -t noisescope .
#   docker run -p 5006:5006 -e NOISESCOPE_ALLOW_WEBSOCKET_ORIGIN=localhost:5006 noisescope
FROM python:3.11-slim

# make drives the install exactly as the README's `make serve` does (numpy and numba are wheels).
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*

# Unprivileged user; it owns /app so the editable install can write its metadata there.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin noisescope \
    && install -d -o noisescope -g noisescope /app
WORKDIR /app
COPY --chown=noisescope:noisescope . /app

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NUMBA_CACHE_DIR=/home/noisescope/.cache/numba \
    NOISESCOPE_ALLOW_WEBSOCKET_ORIGIN=localhost:5006

USER noisescope
# Runtime dependencies only (no test/bench extras), then compile every kernel into the cache
# as the user that serves, so containers start without a JIT pause.
RUN make install
RUN make warm

EXPOSE 5006
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5006/liveness', timeout=4)"]

# Exec form: noisescope is PID 1 and handles SIGTERM from `docker stop` itself.
ENTRYPOINT ["noisescope"]
CMD ["serve", "--address", "0.0.0.0", "--port", "5006"]
