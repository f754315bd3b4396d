# The app in a container. CPU by default; for an NVIDIA GPU host build with
#   docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 -t slr:gpu .
# and run with --gpus all. See deploy/ for a compose file with HTTPS and a TURN server.
FROM python:3.11-slim

# OpenCV and MediaPipe need these shared libraries at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
COPY requirements.txt ./
RUN pip install --no-cache-dir --extra-index-url ${TORCH_INDEX} -r requirements.txt
COPY . .
RUN pip install --no-cache-dir --no-deps -e .

# Models, runs, personal libraries and caches: mount volumes here to keep them.
ENV SLR_RUNS_DIR=/data/runs SLR_CACHE_DIR=/data/cache SLR_LIBRARY=/data/library SLR_DATA_DIRS=/data/datasets
EXPOSE 8501
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health')"
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true"]
