# Build: docker build -t mfa_exporter .   Run: docker run --read-only -p 10063:10063 mfa_exporter --demo
# The base images are pinned by digest (the tag is only a reminder): a rebuild uses the same
# bytes until someone moves the pin. To move it: docker buildx imagetools inspect <tag>.

# golang:1.26.8-bookworm
FROM golang:1.26.8-bookworm@sha256:dc9ad6c05acc7a88e5b71bde60a5fe3bd4b9f0db209011711b464107438a8107 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION} -X github.com/prometheus/common/version.Revision=${REVISION} -X github.com/prometheus/common/version.Branch=main" \
    -o /out/mfa_exporter .

# distroless static: CA certificates for Graph's TLS, no shell, runs as the nonroot user.
# gcr.io/distroless/static-debian12:nonroot
FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
COPY --from=build /out/mfa_exporter /bin/mfa_exporter
USER 65532:65532
EXPOSE 10063
ENTRYPOINT ["/bin/mfa_exporter"]
