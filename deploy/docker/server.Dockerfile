# voxelfeed data server. Build from the repository root:
#   docker build -f deploy/docker/server.Dockerfile -t voxelfeed-server .
# Run with a LUNA16 preprocessed folder mounted at /data:
#   docker run -p 50051:50051 -p 9464:9464 -v /path/to/luna16:/data:ro voxelfeed-server --cache-bytes 8GiB

# Stage 1: production dependencies only. tsx is one of them: bin/voxelfeed.js runs the TypeScript sources
# through it, so there is no build step and no dev dependency in the image.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# Stage 2: the runtime, without npm's cache or build leftovers.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    VOXELFEED_CACHE_DIR=/var/cache/voxelfeed
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
COPY deploy/docker/grpc-health-check.mjs ./deploy/docker/grpc-health-check.mjs
# The node image's unprivileged user (uid 1000); the cache folder holds the phantom data set when no --data.
RUN mkdir -p /data /var/cache/voxelfeed && chown node:node /var/cache/voxelfeed
USER node
EXPOSE 50051 9464
# The first start of a large data set indexes every series; start-period keeps those minutes from counting.
# The check speaks TLS when VOXELFEED_TLS_CERT is set: VOXELFEED_HEALTH_CA names a CA that file lacks, and
# VOXELFEED_HEALTH_CERT/VOXELFEED_HEALTH_KEY a client certificate for mutual TLS (deploy/README.md, Security).
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "deploy/docker/grpc-health-check.mjs"]
ENTRYPOINT ["node", "bin/voxelfeed.js"]
CMD ["serve", "--host", "0.0.0.0", "--data", "/data"]
