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

# Stage 1: compile. Every dependency (TypeScript among them) and the sources; tsc builds the cli package and
# the packages it references into their dist/ folders. Nothing of this stage but dist/ reaches the image.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY gen ./gen
COPY common ./common
COPY client ./client
COPY server ./server
COPY trainer ./trainer
COPY bin ./bin
RUN npm ci --ignore-scripts --no-audit --no-fund && npx tsc -b bin

# Stage 2: the production dependencies of the trainer side only (proto, common, client, trainer, cli; no
# server), as package-lock.json pins them, then tfjs-node-gpu. Compilers are only here, for the case where
# node-pre-gyp finds no prebuilt binding.
FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04 AS deps
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY gen/package.json ./gen/
COPY common/package.json ./common/
COPY client/package.json ./client/
COPY trainer/package.json ./trainer/
COPY bin/package.json ./bin/
COPY deploy/docker/keep-workspaces.mjs ./
# npm ci empties node_modules, so tfjs-node-gpu (an optional peer of the trainer: most hosts have no CUDA
# 11.2) comes after; its install script downloads libtensorflow.
RUN node keep-workspaces.mjs gen common client trainer bin \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm install --no-save --no-audit --no-fund @tensorflow/tfjs-node-gpu@4.22.0 \
 && npm cache clean --force

# Stage 3: the runtime, on the same CUDA/cuDNN base: compiled JavaScript and those dependencies.
FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04
COPY --from=node /usr/local/bin/node /usr/local/bin/node
ENV NODE_ENV=production \
    VOXELFEED_BACKEND=tensorflow \
    VOXELFEED_METRICS_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/gen/package.json ./gen/
COPY --from=build /app/gen/dist ./gen/dist
COPY --from=build /app/common/package.json ./common/
COPY --from=build /app/common/dist ./common/dist
COPY --from=build /app/client/package.json ./client/
COPY --from=build /app/client/dist ./client/dist
COPY --from=build /app/trainer/package.json ./trainer/
COPY --from=build /app/trainer/dist ./trainer/dist
COPY --from=build /app/bin/package.json /app/bin/voxelfeed.js /app/bin/run-cli.js ./bin/
COPY --from=build /app/bin/dist ./bin/dist
RUN useradd --uid 1000 --create-home --shell /usr/sbin/nologin voxelfeed \
 && mkdir -p /checkpoints && chown voxelfeed:voxelfeed /checkpoints
USER voxelfeed
EXPOSE 9465
ENTRYPOINT ["node", "bin/voxelfeed.js", "train"]
