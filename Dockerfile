# One image for the ledger (the default CMD) and the provider simulator
# (`node dist/src/provider-simulator/main.js`). Both stages use the same base image, so the
# better-sqlite3 addon compiled in the first one matches the runtime's Node ABI and glibc.

FROM node:20-bookworm-slim AS build
# better-sqlite3 is compiled from source with node-gyp: Python, make and a C++ compiler.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
# The developers' and CI's npm (a published release), so the lock file is read the same way.
ARG NPM_VERSION=11.19.1
RUN npm install -g "npm@${NPM_VERSION}"
# Build the addon from source rather than downloading a prebuilt binary from outside the npm
# registry, against the headers that ship with this Node (no header download either).
ENV npm_config_build_from_source=better-sqlite3 \
    npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json ./
# No dependency's install script runs (npm 11 only records package.json's `allowScripts`, it
# does not enforce it): protobufjs, cpu-features, ssh2 and a telemetry package would. Then the
# one addon the service needs, better-sqlite3 (the packages `allowScripts` allows), is built.
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npm rebuild better-sqlite3
COPY . .
RUN npm run build \
  && npm prune --omit=dev --no-audit --no-fund \
  && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"

FROM node:20-bookworm-slim AS runtime
# The service listens on loopback unless told otherwise; in a container that would be unreachable.
ENV NODE_ENV=production \
    HOST=0.0.0.0
WORKDIR /app
# Owned by root and read-only to the service; only DATA_DIR (the embedded SQLite default) is
# writable. dist/bench is left behind: its benchmarks need dev dependencies.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
RUN mkdir data && chown node:node data
USER node
EXPOSE 3000
# No curl in slim images: Node's own fetch. Liveness only; compose asks for readiness.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
