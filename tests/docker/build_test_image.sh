#!/usr/bin/env bash
# Build the image the Docker tests run, batch-emulator-test/busybox:latest, with no registry access:
# FROM scratch around Debian's static busybox (`apt-get install busybox-static`). tests/docker/conftest.py
# builds the same image through the Docker SDK when it is missing; this script is for doing it by hand.
set -euo pipefail

IMAGE="${1:-batch-emulator-test/busybox:latest}"
BUSYBOX="${BUSYBOX:-/bin/busybox}"

if ! [ -x "$BUSYBOX" ]; then
  echo "no $BUSYBOX: apt-get install busybox-static" >&2
  exit 1
fi

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
cp "$BUSYBOX" "$context/busybox"
cat > "$context/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
DOCKERFILE
docker build --label batch-emulator.test=true -t "$IMAGE" "$context"
