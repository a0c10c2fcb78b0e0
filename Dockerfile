# jobgraph gateway image: `docker build -t jobgraph .` (see README, "In a container").

# GraphiQL's browser assets, pinned by package-lock.json.
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY graph ./graph
COPY resolvers ./resolvers
COPY simulators ./simulators
RUN pip install . && useradd --system --no-create-home jobgraph
# The GraphiQL page looks for node_modules/ in the working directory.
COPY --from=assets /app/node_modules ./node_modules
USER jobgraph
EXPOSE 8000
CMD ["jobgraph", "serve", "--config", "/etc/jobgraph/jobgraph.toml", "--host", "0.0.0.0", "--port", "8000"]
