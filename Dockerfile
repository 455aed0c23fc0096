# Build: docker build -t huaweicloud-job-exporter .
# Run:   docker run -p 19866:19866 -v $PWD/config.yml:/etc/huaweicloud-job-exporter/config.yml:ro \
#          -e HUAWEICLOUD_SDK_AK -e HUAWEICLOUD_SDK_SK huaweicloud-job-exporter
# Demo:  docker run -p 19866:19866 huaweicloud-job-exporter --demo

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
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
ENTRYPOINT ["/bin/huaweicloud-job-exporter"]
CMD ["--config.file=/etc/huaweicloud-job-exporter/config.yml"]
