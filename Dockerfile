# One image for the API and the GPU worker (docker-compose.yml picks the command).
# The web UI is built in a Node stage and served by the API from web/dist.

FROM node:22-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HOME=/cache/huggingface \
    AVOCET_MODELS_DIR=/models \
    AVOCET_REDIS_URL=redis://redis:6379/0
WORKDIR /app
# torch first and on its own layer: the default Linux wheel carries CUDA, which the GPU worker needs.
ARG TORCH_SPEC="torch==2.13.0"
RUN pip install "$TORCH_SPEC"
COPY pyproject.toml constraints.txt ./
COPY shared/ shared/
COPY api/ api/
COPY worker/ worker/
COPY classifiers/ classifiers/
COPY data/email_score.jsonl.example data/
# Editable, so the code stays in /app (the API finds web/dist next to it).
RUN pip install -c constraints.txt -e ".[ops,gpu]"
COPY --from=web /web/dist web/dist
RUN useradd --create-home avocet && mkdir -p /models /cache/huggingface && chown -R avocet /models /cache
USER avocet
EXPOSE 8000
CMD ["python", "-m", "api", "--host", "0.0.0.0", "--port", "8000"]
