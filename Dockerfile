# Build: make docker   (stamps the version and revision from git; .git is not sent to the daemon), or
#          docker build -t huaweicloud-job-exporter \
#            --build-arg VERSION=$(git describe --tags --always --dirty) --build-arg REVISION=$(git rev-parse HEAD) .
# Run:   docker run -p 19866:19866 -v $PWD/huaweicloud-job-exporter.yml:/etc/huaweicloud-job-exporter/config.yml:ro \
#          -e HUAWEICLOUD_SDK_AK -e HUAWEICLOUD_SDK_SK huaweicloud-job-exporter
# Demo:  docker run -p 19866:19866 huaweicloud-job-exporter --demo --web.listen-address=:19866
#        (--demo alone listens on the container's loopback, which -p cannot reach)

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Without these build args the binary says version=dev, revision=unknown: there is no .git in the context.
ARG VERSION=dev
ARG REVISION=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION} \
        -X github.com/prometheus/common/version.Branch=docker \
        -X github.com/prometheus/common/version.BuildUser=docker" \
      -o /out/huaweicloud-job-exporter . \
 && mkdir -p /out/etc/huaweicloud-job-exporter

# Static binary, CA certificates for the Huawei endpoints, no shell, uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/huaweicloud-job-exporter /bin/huaweicloud-job-exporter
COPY --from=build --chown=65532:65532 /out/etc/huaweicloud-job-exporter /etc/huaweicloud-job-exporter
USER 65532:65532
EXPOSE 19866
# The image has no shell or curl: the binary probes its own /-/healthy. It asks port 19866; a container
# started with another --web.listen-address needs the same flag here (docker run --health-cmd, or
# compose's healthcheck).
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
  CMD ["/bin/huaweicloud-job-exporter", "--healthcheck"]
ENTRYPOINT ["/bin/huaweicloud-job-exporter"]
CMD ["--config.file=/etc/huaweicloud-job-exporter/config.yml"]
