# P2C Hub: build a wheel, then install it into a slim image that runs as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY hub hub
COPY schema schema
COPY connectors connectors
RUN pip wheel --no-cache-dir --constraint constraints.txt --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin hub
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY docker/entrypoint.sh /usr/local/bin/p2c-hub-entrypoint
COPY docker/healthcheck.py /usr/local/bin/p2c-hub-healthcheck
USER hub
WORKDIR /home/hub
ENV HUB_HOST=0.0.0.0 \
    HUB_PORT=8000 \
    HUB_DATABASE_URL=sqlite+aiosqlite:////home/hub/p2c-hub.db
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/usr/local/bin/p2c-hub-healthcheck"]
ENTRYPOINT ["p2c-hub-entrypoint"]
