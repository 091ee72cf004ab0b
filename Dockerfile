# syntax=docker/dockerfile:1
# modelgate's two images, built for linux/amd64 and linux/arm64 by
# .github/workflows/release.yml and tested here by internal/imagetest,
# which follows this file instruction by instruction:
#
#   docker build --target action .   the GitHub Action (action.yml runs it)
#   docker build --target bot .      the GitHub App server
#
# The Go build runs on the builder's own platform and cross-compiles; only
# the package installs of the final stages run on the target platform.

FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH
RUN go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o /out/modelgate ./action
RUN go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o /out/bot ./bot

# The action: its static binary, and git, which the comparison with the
# base branch runs (the git CLI reads every checkout actions/checkout makes,
# shallow, partial or sparse, exactly as git wrote it).
FROM debian:bookworm-slim AS action
RUN apt-get update \
	&& apt-get install -y --no-install-recommends git ca-certificates \
	&& rm -rf /var/lib/apt/lists/*
# GitHub runs an action's container as root, with the workspace mounted from
# the runner, where it belongs to the runner's user: git refuses to read a
# repository owned by another user ("dubious ownership") unless it is named
# safe. The container sees nothing but that workspace, so every directory is
# (a checkout may sit below /github/workspace, with actions/checkout's path).
ENV GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0=*
COPY --from=build /out/modelgate /usr/local/bin/modelgate
# No USER and no WORKDIR: GitHub runs the container as root, in the workspace.
ENTRYPOINT ["/usr/local/bin/modelgate"]

# The bot: its static binary and the CA certificates its calls to GitHub and
# Prometheus need, run as an unprivileged user; the SQLite store (one
# replica) lives in /data, a PostgreSQL URL in MODELGATE_DB replaces it.
FROM debian:bookworm-slim AS bot
RUN apt-get update \
	&& apt-get install -y --no-install-recommends ca-certificates \
	&& rm -rf /var/lib/apt/lists/* \
	&& mkdir /data && chown 65532:65532 /data
COPY --from=build /out/bot /usr/local/bin/bot
ENV MODELGATE_DB=/data/modelgate.db MODELGATE_LISTEN=:8080
USER 65532:65532
WORKDIR /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/bot"]
CMD ["serve"]
