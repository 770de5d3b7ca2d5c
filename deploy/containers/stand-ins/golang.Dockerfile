# Stand-in for the official golang:<version>-bookworm image, built by deploy/containers/stand-in-bases.sh
# only where Docker Hub cannot be reached. Context: a cache folder holding `go/`, the toolchain module
# golang.org/toolchain@v0.0.1-go<version>.linux-amd64 from the Go module proxy. No C compiler (the official
# image has gcc): builds here are CGO_ENABLED=0.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
ARG GO_VERSION
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/*
COPY go /usr/local/go
ENV GOLANG_VERSION=${GO_VERSION} \
    GOTOOLCHAIN=local \
    GOPATH=/go \
    PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /go/src /go/bin && go version
WORKDIR /go
