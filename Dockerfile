# syntax=docker/dockerfile:1
# Sluice in a scratch image: one static binary, CA certificates for the
# providers' TLS, a numeric non-root user, and nothing else (no shell).
# Build: docker build -t sluice .   Run: see "Deploying" in the README.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# web/dist is committed, so the dashboard needs no Node stage.
RUN sh deploy/image/build-binary.sh /out/sluice
# Writable folders, copied as the contents of /out/writable so that their
# modes are kept: the data volume's mount point, private to the gateway's
# user, and /tmp for SQLite's temporary files (mount a tmpfs there when
# the root filesystem is read-only).
RUN mkdir -p /out/writable/data /out/writable/tmp && chmod 0700 /out/writable/data && chmod 1777 /out/writable/tmp && \
    mkdir -p /out/etc/ssl/certs && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/

# The final stage names only paths under /out of the builder:
# deploy/image/build-check.sh builds this very stage with buildah from a
# context laid out the same way.
FROM scratch
COPY --from=build /out/etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/sluice /sluice
COPY --from=build --chown=65532:65532 /out/writable/ /
ENV SLUICE_DATA_DIR=/data TMPDIR=/tmp
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["/sluice", "healthcheck"]
ENTRYPOINT ["/sluice"]
CMD ["serve"]
