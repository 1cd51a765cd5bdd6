#!/bin/sh
# Build an image for jobs that call AWS from inside their container (Python 3 with boto3), with no
# registry at all: FROM the base image build-base-image.sh makes from this machine's Python, with
# boto3 installed from wheels fetched on the host, as the server image's dependencies are.
#
#   docker-image/build-job-image.sh [TAG]     (default TAG: batch-emulator-jobs/python:local)
#
# BASE names the base image (default batch-emulator-base:local, built first when missing); PYTHON
# the interpreter that fetches the wheels (default python3: the one the base image copies). The
# wheels land in docker-image/wheels/ beside the server's (already there: nothing is downloaded).
# examples/fetch_and_run.py runs its jobs on this image under the Docker executor.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TAG=${1:-batch-emulator-jobs/python:local}
BASE=${BASE:-batch-emulator-base:local}
PYTHON=${PYTHON:-python3}

command -v docker >/dev/null || { echo "build-job-image: docker not found" >&2; exit 1; }
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
    "$HERE/build-base-image.sh" "$BASE" >/dev/null
fi

mkdir -p "$HERE/wheels"
"$PYTHON" -m pip download --quiet --only-binary=:all: --find-links "$HERE/wheels" --dest "$HERE/wheels" boto3

CONTEXT=$(mktemp -d)
trap 'rm -rf "$CONTEXT"' EXIT
cp -r "$HERE/wheels" "$CONTEXT/wheels"
cat >"$CONTEXT/Dockerfile" <<DOCKERFILE
FROM $BASE
COPY wheels /tmp/wheels
RUN python3 -m pip install --no-cache-dir --no-index --find-links /tmp/wheels boto3 && rm -rf /tmp/wheels /root/.cache
CMD ["python3"]
DOCKERFILE

docker build -q -t "$TAG" --label batch-emulator.test=true "$CONTEXT" >/dev/null
docker run --rm "$TAG" python3 -c 'import boto3; print("job image ok: boto3", boto3.__version__)'
echo "$TAG"
