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
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 3000
CMD ["npm", "run", "start"]
