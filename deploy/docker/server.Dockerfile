# voxelfeed data server. Build from the repository root:
#   docker build -f deploy/docker/server.Dockerfile -t voxelfeed-server .
# Run with a LUNA16 preprocessed folder mounted at /data:
#   docker run -p 50051:50051 -p 9464:9464 -v /path/to/luna16:/data:ro voxelfeed-server --cache-bytes 8GiB

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

# Stage 2: the production dependencies of the server side only (proto, common, server, cli): no trainer, so
# no TensorFlow.js, and no tsx. Versions as package-lock.json pins them.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY gen/package.json ./gen/
COPY common/package.json ./common/
COPY server/package.json ./server/
COPY bin/package.json ./bin/
COPY deploy/docker/keep-workspaces.mjs ./
RUN node keep-workspaces.mjs gen common server bin \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# Stage 3: the runtime: compiled JavaScript (no TypeScript source, no tsx) and those dependencies. The
# workspace links in node_modules/@voxelfeed point at the package folders copied here.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    VOXELFEED_CACHE_DIR=/var/cache/voxelfeed
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/gen/package.json ./gen/
COPY --from=build /app/gen/descriptors ./gen/descriptors
COPY --from=build /app/gen/dist ./gen/dist
COPY --from=build /app/common/package.json ./common/
COPY --from=build /app/common/dist ./common/dist
COPY --from=build /app/server/package.json ./server/
COPY --from=build /app/server/dist ./server/dist
COPY --from=build /app/bin/package.json /app/bin/voxelfeed.js /app/bin/run-cli.js ./bin/
COPY --from=build /app/bin/dist ./bin/dist
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
