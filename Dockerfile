# One image for the API and the worker (docker-compose.yml picks the command). The web UI is built in a Node stage
# and served by the API from web/dist. The base images are build arguments (the official ones by default), so a
# machine that reaches no registry can build on local stand-ins (scripts/compose-check).
ARG PYTHON_IMAGE=python:3.11-slim
ARG NODE_IMAGE=node:22-slim

FROM ${NODE_IMAGE} AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM ${PYTHON_IMAGE}
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HOME=/cache/huggingface \
    AVOCET_MODELS_DIR=/models \
    AVOCET_DATA_DIR=/data \
    AVOCET_SCORE_FILE=/app/data/email_score.jsonl.example \
    AVOCET_REDIS_URL=redis://redis:6379/0
WORKDIR /app
# Where pip looks, when the build must use a local mirror or wheel folder (unset: PyPI). Build-time only.
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_TRUSTED_HOST
# torch first and on its own layer: the default Linux wheel carries CUDA, which the GPU worker needs.
# docker-compose.cpu.yml points TORCH_INDEX_URL at PyTorch's CPU wheels (a 2 GB image instead of 6 GB).
ARG TORCH_SPEC="torch==2.13.0"
ARG TORCH_INDEX_URL=""
RUN pip install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "$TORCH_SPEC"
COPY pyproject.toml constraints.txt ./
COPY shared/ shared/
COPY api/ api/
COPY worker/ worker/
COPY classifiers/ classifiers/
COPY avocet_cli/ avocet_cli/
COPY data/email_score.jsonl.example data/
# Editable, so the code stays in /app (the API finds web/dist next to it). `gpu` brings bitsandbytes (8-bit AdamW).
ARG EXTRAS="ops,gpu"
RUN pip install -c constraints.txt -e ".[$EXTRAS]"
COPY --from=web /web/dist web/dist
# A fixed non-root uid that owns the volume mount points: Docker fills a named volume that is created empty from
# the image's folder, owner included, so `models`, `datasets` and `hf-cache` start out writable by the services.
RUN useradd --uid 10001 --create-home avocet \
    && mkdir -p /models /data /cache/huggingface && chown avocet:avocet /models /data /cache/huggingface
USER 10001
EXPOSE 8000
CMD ["python", "-m", "api", "--host", "0.0.0.0", "--port", "8000"]
