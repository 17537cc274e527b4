#!/usr/bin/env bash
# Builds the Dockerfile's final (scratch) stage with buildah, without a
# container daemon or a registry: the builder stage's commands run on this
# host (build-binary.sh and the same folders), laid out under a context
# folder as /out is in the builder, and the final stage is taken from the
# Dockerfile itself with "--from=build" removed, so the two cannot drift.
# Then it checks the image's user, entrypoint, healthcheck, ports, volume,
# and that the binary inside is static and runs.
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d)
image="localhost/sluice-ci:$$"
b=(buildah --storage-driver vfs --root "$work/storage" --runroot "$work/run")
cleanup() {
  "${b[@]}" rmi -f "$image" >/dev/null 2>&1 || true
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "build-check: $*" >&2; exit 1; }

# The builder stage, on the host.
ctx="$work/context"
mkdir -p "$ctx/out/writable/data" "$ctx/out/writable/tmp" "$ctx/out/etc/ssl/certs"
sh deploy/image/build-binary.sh "$ctx/out/sluice"
chmod 0700 "$ctx/out/writable/data"
chmod 1777 "$ctx/out/writable/tmp"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/out/etc/ssl/certs/"

if readelf -l "$ctx/out/sluice" | grep -q INTERP; then fail "the binary asks for a dynamic loader: it would not run FROM scratch"; fi
file "$ctx/out/sluice" | grep -q "statically linked" || fail "file does not call the binary static: $(file "$ctx/out/sluice")"

# The final stage, verbatim but for where COPY reads from.
awk 'f; /^FROM scratch/ {f=1; print}' Dockerfile | sed 's/--from=build //' >"$ctx/Containerfile"
grep -q '^COPY /out/sluice /sluice$' "$ctx/Containerfile" || fail "the Dockerfile's final stage no longer copies /out/sluice:"$'\n'"$(cat "$ctx/Containerfile")"
if grep -q -- '--from=' "$ctx/Containerfile"; then fail "the final stage copies from a stage other than build"; fi

"${b[@]}" bud --isolation chroot --format docker --layers=false -f "$ctx/Containerfile" -t "$image" "$ctx" >"$work/bud.log" 2>&1 ||
  { cat "$work/bud.log"; fail "buildah bud failed"; }

inspect() { "${b[@]}" inspect --type image --format "$1" "$image" || fail "buildah inspect failed"; }
check() { # name, got, want
  [ "$2" = "$3" ] || fail "$1 is $2, want $3"
  echo "ok: $1 $2"
}
check user "$(inspect '{{.Docker.Config.User}}')" "65532:65532"
# Lists as Go prints them (this buildah's templates have no json).
check entrypoint "$(inspect '{{.Docker.Config.Entrypoint}}')" '[/sluice]'
check cmd "$(inspect '{{.Docker.Config.Cmd}}')" '[serve]'
check healthcheck "$(inspect '{{.Docker.Config.Healthcheck.Test}}')" '[CMD /sluice healthcheck]'
check ports "$(inspect '{{range $p, $_ := .Docker.Config.ExposedPorts}}{{$p}} {{end}}')" '8080/tcp '
check volumes "$(inspect '{{range $v, $_ := .Docker.Config.Volumes}}{{$v}} {{end}}')" '/data '
env=$(inspect '{{range .Docker.Config.Env}}{{.}} {{end}}')
for want in SLUICE_DATA_DIR=/data TMPDIR=/tmp; do
  [[ " $env" == *" $want "* ]] || fail "env $env lacks $want"
done
echo "ok: env $env"

# The image's files: exactly what the final stage put there, with the data
# folder the gateway user's own.
ctr=$("${b[@]}" from "$image")
mnt=$("${b[@]}" mount "$ctr")
files=$(cd "$mnt" && find . -mindepth 1 \( -type f -o -type d \) -printf '%p %U:%G %m\n' | sort)
grep -qx './data 65532:65532 700' <<<"$files" || fail "/data is not 65532's with mode 0700:"$'\n'"$files"
grep -qx './tmp 65532:65532 1777' <<<"$files" || fail "/tmp is not world-writable and sticky:"$'\n'"$files"
grep -q '^./sluice ' <<<"$files" || fail "no /sluice in the image"
grep -q '^./etc/ssl/certs/ca-certificates.crt ' <<<"$files" || fail "no CA certificates in the image"
echo "ok: files"$'\n'"$files"

# The image's own files, run as its user with only its environment: the
# gateway starts on SQLite in /data, and its healthcheck passes.
port=$((20000 + RANDOM % 20000))
# A command, not a function: run in the background, its pid is the
# gateway's own (env and chroot exec it), so that the kill below stops the
# gateway and not a shell around it, which left the gateway running.
in_image=(env -i SLUICE_DATA_DIR=/data TMPDIR=/tmp SLUICE_ADDR="127.0.0.1:$port" SLUICE_ADMIN_PASSWORD=build-check
  "$(command -v chroot)" --userspec=65532:65532 "$mnt" /sluice)
"${in_image[@]}" serve >"$work/serve.log" 2>&1 &
serve_pid=$!
ready=""
for _ in $(seq 1 150); do
  if "${in_image[@]}" healthcheck --timeout 1s >/dev/null 2>&1; then ready=yes; break; fi
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.2
done
kill -TERM "$serve_pid" 2>/dev/null || true
wait "$serve_pid" || true
[ -n "$ready" ] || { cat "$work/serve.log"; fail "the gateway in the image never became ready"; }
[ -f "$mnt/data/sluice.db" ] || fail "the gateway did not write /data/sluice.db"
echo "ok: serves from the image's files as 65532, SQLite in /data"
"${b[@]}" umount "$ctr" >/dev/null
"${b[@]}" rm "$ctr" >/dev/null

# The binary runs and its healthcheck fails cleanly with nothing listening.
"$ctx/out/sluice" --help >/dev/null
if SLUICE_ADDR=127.0.0.1:1 "$ctx/out/sluice" healthcheck --timeout 1s 2>/dev/null; then fail "healthcheck passed with nothing listening"; fi
echo "build-check: ok"
