# The modelgate GitHub Action: a static binary on a minimal image with git,
# which the base-branch comparison needs. GitHub runs action containers as
# root with the workspace mounted, so there is no USER and no WORKDIR here.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /modelgate ./action

FROM alpine:3.20
RUN apk add --no-cache git
# The workspace belongs to the runner's user, not to root in the container;
# without this git refuses to read it ("dubious ownership").
ENV GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0=*
COPY --from=build /modelgate /usr/local/bin/modelgate
ENTRYPOINT ["/usr/local/bin/modelgate"]
