# The batch-emulator server. It drives the host's Docker through a mounted socket:
#   docker build -t batch-emulator .
#   docker run --rm -p 8734:8734 -v /var/run/docker.sock:/var/run/docker.sock batch-emulator --bootstrap
# Flags after the image name go to `python -m emulator` (see README "Server flags").
#
# BASE names any image with Python 3.11+ and pip. Where no registry is reachable, build one from this
# machine's Python and install from wheels fetched on the host (see docker-image/README.md):
#   docker-image/build-base-image.sh && docker-image/fetch-wheels.sh
#   docker build --build-arg BASE=batch-emulator-base:local --build-arg PIP_OPTIONS=--no-index -t batch-emulator .
ARG BASE=python:3.11-slim

FROM ${BASE} AS build
ARG PIP_OPTIONS=
WORKDIR /src
COPY pyproject.toml README.md ./
COPY emulator ./emulator
# docker-image/wheels/ holds wheels fetched on the host by docker-image/fetch-wheels.sh; empty otherwise.
COPY docker-image/ ./docker-image/
RUN python -m pip install --no-cache-dir --no-warn-script-location --prefix=/install \
        --find-links ./docker-image/wheels ${PIP_OPTIONS} .

FROM ${BASE}
COPY --from=build /install /usr/local
# Jobs run as sibling containers on the host's daemon; the server tells them its own address on
# the container network (see emulator/__main__.py), so they can call it back.
# The container binds every interface so a published port reaches it; who can reach that port is
# decided by `-p` (publish on 127.0.0.1) or by --auth, so the bind-safety refusal is off here.
ENV PYTHONUNBUFFERED=1 EMULATOR_INSECURE=true
EXPOSE 8734
ENTRYPOINT ["python", "-m", "emulator", "--host", "0.0.0.0", "--port", "8734"]
