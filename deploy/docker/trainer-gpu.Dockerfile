# voxelfeed trainer with TensorFlow on an NVIDIA GPU (@tensorflow/tfjs-node-gpu 4.22.0). Build from the
# repository root, with network access: `npm install @tensorflow/tfjs-node-gpu` downloads libtensorflow 2.9
# (GPU build, about 400 MB) from storage.googleapis.com while the image is built.
#   docker build -f deploy/docker/trainer-gpu.Dockerfile -t voxelfeed-trainer-gpu .
#   docker run --gpus all voxelfeed-trainer-gpu --server voxelfeed-server:50051 --rank 0 --world-size 1
#
# libtensorflow 2.9 needs CUDA 11.2 and cuDNN 8.1 (libcudart.so.11.0); CUDA 12 does not work
# (trainer/README.md). The host needs an NVIDIA driver >= 450.80 and the NVIDIA container toolkit.

# Node 20 comes from the official image: the base is Ubuntu 20.04, whose own Node is 10.
FROM node:20-bookworm-slim AS node

# Stage 1: dependencies. Compilers are only here, for the case where node-pre-gyp finds no prebuilt binding.
FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04 AS deps
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci empties node_modules, so tfjs-node-gpu (not in package.json: most hosts have no CUDA 11.2) comes after.
RUN npm ci --omit=dev \
 && npm install --no-save @tensorflow/tfjs-node-gpu@4.22.0 \
 && npm cache clean --force

# Stage 2: the runtime, on the same CUDA/cuDNN base.
FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04
COPY --from=node /usr/local/bin/node /usr/local/bin/node
ENV NODE_ENV=production \
    VOXELFEED_BACKEND=tensorflow \
    VOXELFEED_METRICS_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY client ./client
COPY common ./common
COPY gen ./gen
COPY proto ./proto
COPY server ./server
COPY trainer ./trainer
RUN useradd --uid 1000 --create-home --shell /usr/sbin/nologin voxelfeed \
 && mkdir -p /checkpoints && chown voxelfeed:voxelfeed /checkpoints
USER voxelfeed
EXPOSE 9465
ENTRYPOINT ["node", "bin/voxelfeed.js", "train"]
