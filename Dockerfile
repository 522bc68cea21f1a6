# iden serve in a container: production dependencies only, a non-root user.
#   docker build -t iden .
#   docker run -v /srv/access:/repo -e IDEN_WEBHOOK_SECRET=… -p 8080:8080 iden
# /repo is a clone made for serve (clean, on its branch, with a remote it can fetch).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY scripts ./scripts
COPY schemas ./schemas
COPY src ./src
COPY test ./test
COPY .github/workflows ./.github/workflows
RUN npm ci --no-audit --no-fund --ignore-scripts && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update -q && apt-get install -y -q --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/* \
  && useradd --create-home --uid 10001 iden
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/schemas ./schemas
COPY --from=build /app/.github/workflows ./.github/workflows
USER iden
EXPOSE 8080
ENTRYPOINT ["node", "/app/dist/src/cli/bin.js", "serve", "--repo", "/repo", "--listen", "0.0.0.0:8080", "--log-format", "json"]
