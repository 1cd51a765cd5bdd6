#!/bin/sh
# Download, on this machine, every wheel `pip install .` needs inside the image (the emulator's
# dependencies and its build backend) into docker-image/wheels/, so the image builds with
# `--build-arg PIP_OPTIONS=--no-index` where containers cannot reach a package index.
# PYTHON picks the interpreter whose version and platform the wheels are for (default python3:
# the one docker-image/build-base-image.sh copies).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3}
REQUIREMENTS=$("$PYTHON" - "$HERE/../pyproject.toml" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    project = tomllib.load(f)
print("\n".join(project["project"]["dependencies"] + project["build-system"]["requires"]))
PY
)
mkdir -p "$HERE/wheels"
printf '%s\n' "$REQUIREMENTS" >"$HERE/wheels/requirements.txt"
"$PYTHON" -m pip download --quiet --only-binary=:all: --dest "$HERE/wheels" -r "$HERE/wheels/requirements.txt"
echo "$HERE/wheels: $(ls "$HERE/wheels" | grep -c '\.whl$') wheels"
