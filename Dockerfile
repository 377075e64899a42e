# helpdesk-triage: CPU-only image. Installs the way `make install` does (torch CPU build first,
# then the project), but as a regular wheel install without the dev tools.
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    TRIAGE_HOST=0.0.0.0 \
    TRIAGE_PORT=8000 \
    TRIAGE_DATA_DIR=/data \
    TRIAGE_ENCODER_EXPORT_DIR=/opt/encoders

RUN python -m venv /opt/venv \
    && pip install --upgrade pip \
    # torch first, from the CPU index: a resolver left alone pulls a multi-GB CUDA build.
    && pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

WORKDIR /src
COPY pyproject.toml README.md ./
COPY service ./service
COPY models ./models
COPY kb_index ./kb_index
COPY training ./training
# onnx is needed only to quantise: the export below is a build step, and the service then
# serves on ONNX Runtime without importing torch. The int8 variant is quantised for the
# build machine's CPU (its flags pick the config); build where the image will run, or
# set TRIAGE_ENCODER_BACKEND=onnx (fp32) for a portable image.
RUN pip install . onnx && rm -rf /src \
    && HOME=/tmp triage encoder export --out /opt/encoders \
    && chmod -R a+rX /opt/encoders

RUN useradd --create-home --uid 10001 triage \
    && mkdir -p /data && chown triage:triage /data
USER triage
WORKDIR /home/triage
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

# The image listens on 0.0.0.0, so it needs an API key: `triage serve` (and the app itself)
# refuses to start without one. Either pass keys from a secret manager,
#   docker run -e TRIAGE_API_KEYS='[{"name":"helpdesk","key":"<secret>","scopes":["admin"]}]' ...
# or create one in the data volume once (printed once, stored hashed):
#   docker run --rm -v triage-data:/data helpdesk-triage triage keys create --name helpdesk --scopes admin
CMD ["triage", "serve"]
