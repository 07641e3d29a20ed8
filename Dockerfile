# Multi-stage image for every service; SERVICES selects what a container runs (see README).
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY adapters ./adapters
COPY core ./core
COPY schemas ./schemas
COPY gateway ./gateway
COPY processor ./processor
COPY provider-simulator ./provider-simulator
COPY config ./config
COPY backoffice ./backoffice
COPY webhook-dispatcher ./webhook-dispatcher
COPY platform ./platform
COPY ops ./ops
COPY bin ./bin
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--import", "tsx", "bin/platform.ts"]
