#!/bin/sh
# The builder stage of the Dockerfile, runnable on a host: a static,
# stripped, path-free binary of the gateway (no C: it runs in a scratch
# image). Usage: deploy/image/build-binary.sh OUTPUT (from the repository
# root; web/dist is committed, so no Node step is needed).
set -eu
out=${1:?usage: build-binary.sh OUTPUT}
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out" .
