# One image, three process types (see README "Deployment"):
#   web:     npm run start      (app server; PORT, default 3000)
#   worker:  npm run worker     (graphile-worker; as many as the queue needs)
#   release: npm run migrate    (Prisma and graphile-worker migrations, once per deploy)
FROM node:22-bookworm-slim AS build
WORKDIR /app
ENV CI=true
COPY package.json package-lock.json ./
COPY extensions/web-pixel/package.json extensions/web-pixel/package.json
COPY prisma ./prisma
COPY prisma.config.ts ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# A heap sized for the process, not for the host: without a limit V8 grows toward a share of the machine's
# memory before collecting hard, and RSS creeps for minutes. 256 MB held app and worker flat in bench:soak
# (which runs them with this very line); give workers of very large shops more through NODE_OPTIONS.
ENV NODE_OPTIONS="--max-old-space-size=256"
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 3000
CMD ["npm", "run", "start"]
