# Build: docker build -t mfa_exporter .   Run: docker run -p 10063:10063 mfa_exporter --demo
FROM golang:1.26 AS build
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
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/mfa_exporter /bin/mfa_exporter
USER 65532:65532
EXPOSE 10063
ENTRYPOINT ["/bin/mfa_exporter"]
