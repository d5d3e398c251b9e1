# syntax=docker/dockerfile:1
# Tessera inference server image. Three stages: `build` compiles TypeScript and the native GEMM
# with every dependency, `deps` installs the production dependencies alone, and the final image
# holds only those, the compiled dist/, bin/ and package.json, runs as the unprivileged `node`
# user, and reads its model repository from the /models volume. Every setting is an environment
# variable (TESSERA_*; see `tessera serve --help` and the README's Deploy section).
#
# test/production/docker-commands.test.ts replays these stages (COPY, WORKDIR, ENV, RUN, CMD and
# HEALTHCHECK, in this order) in a fresh copy of the repository and checks the server comes up, so
# keep the instructions plain: one command per RUN, exec-form CMD and HEALTHCHECK.
ARG NODE_VERSION=22

# The full image for the build: it has g++, which `npm run build` uses to compile the native GEMM
# (src/backends/cpu/native) into dist/; the final image is slim and only loads it.
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    TESSERA_MODEL_REPOSITORY=/models \
    TESSERA_HOST=0.0.0.0 \
    TESSERA_PORT=8000 \
    TESSERA_LOG_LEVEL=info \
    TESSERA_DRAIN_TIMEOUT_MS=30000 \
    TESSERA_REPOSITORY_POLL_INTERVAL_MS=0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY --chown=node:node models /models
USER node
EXPOSE 8000
VOLUME ["/models"]
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.TESSERA_PORT || 8000) + '/v2/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/tessera.js", "serve"]
