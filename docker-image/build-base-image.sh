#!/bin/sh
# Build a Python base image for the batch-emulator Dockerfile with no registry at all.
#
#   docker-image/build-base-image.sh [TAG]          (default TAG: batch-emulator-base:local)
#   docker build --build-arg BASE=batch-emulator-base:local ...
#
# The image is FROM scratch: this machine's CPython (the interpreter, its standard library without
# tests and site-packages, and the shared libraries `ldd` says it and its extension modules need),
# busybox for /bin/sh, and pip from the interpreter's own bundled wheel (ensurepip). Nothing is
# downloaded. PYTHON picks the interpreter (default python3; a virtual environment's base
# interpreter is used). Where a registry is reachable, python:3.11-slim does the same job.
set -eu

TAG=${1:-batch-emulator-base:local}
PYTHON=${PYTHON:-python3}
BUSYBOX=${BUSYBOX:-/bin/busybox}

for tool in docker ldd tar "$PYTHON"; do
    command -v "$tool" >/dev/null || { echo "build-base-image: $tool not found" >&2; exit 1; }
done
[ -x "$BUSYBOX" ] || { echo "build-base-image: no static busybox at $BUSYBOX (apt-get install busybox-static)" >&2; exit 1; }

PREFIX=$("$PYTHON" -c 'import sys; print(sys.base_prefix)')
VERSION=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
STDLIB="$PREFIX/lib/python$VERSION"
[ -x "$PREFIX/bin/python$VERSION" ] || { echo "build-base-image: no $PREFIX/bin/python$VERSION" >&2; exit 1; }

CONTEXT=$(mktemp -d)
trap 'rm -rf "$CONTEXT"' EXIT
ROOT="$CONTEXT/rootfs"
mkdir -p "$ROOT/usr/local/bin" "$ROOT/usr/local/lib" "$ROOT/bin" "$ROOT/sbin" "$ROOT/etc" "$ROOT/tmp" "$ROOT/root"

cp -L "$PREFIX/bin/python$VERSION" "$ROOT/usr/local/bin/"
for lib in "$PREFIX"/lib/libpython*.so*; do
    [ -e "$lib" ] && cp -L "$lib" "$ROOT/usr/local/lib/"
done
# The standard library, less what a server never imports.
tar -C "$PREFIX/lib" -cf - \
    --exclude="python$VERSION/site-packages" --exclude="python$VERSION/test" \
    --exclude="python$VERSION/idlelib" --exclude="python$VERSION/tkinter" \
    --exclude="python$VERSION/turtledemo" --exclude="python$VERSION/lib2to3/tests" \
    --exclude='*/__pycache__' --exclude='*.a' --exclude='*/_tkinter*' \
    "python$VERSION" | tar -C "$ROOT/usr/local/lib" -xf -
mkdir -p "$ROOT/usr/local/lib/python$VERSION/site-packages"

# Every shared library the interpreter and its extension modules load, at the path it has here.
for elf in "$PREFIX/bin/python$VERSION" "$PREFIX"/lib/libpython*.so* "$STDLIB"/lib-dynload/*.so; do
    case "$elf" in *_tkinter*) continue ;; esac
    [ -e "$elf" ] || continue
    ldd "$elf" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | grep -v "^$PREFIX/" | while read -r lib; do
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
done

# The libraries manylinux wheels may expect the system to provide (PEP 600's list, less X11/GL).
for name in libgcc_s.so.1 libstdc++.so.6 libpthread.so.0 libdl.so.2 librt.so.1 libutil.so.1 \
    libresolv.so.2 libcrypt.so.1 libz.so.1 libexpat.so.1; do
    lib=$(ldconfig -p | awk -v n="$name" '$1 == n && /x86-64|64bit/ { print $NF; exit }')
    [ -n "$lib" ] || continue
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
done

cp "$BUSYBOX" "$ROOT/bin/busybox"
cp /sbin/ldconfig "$ROOT/sbin/ldconfig"
printf '/usr/local/lib\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n/lib64\n/lib\n/usr/lib\n' >"$ROOT/etc/ld.so.conf"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"

cat >"$CONTEXT/Dockerfile" <<DOCKERFILE
FROM scratch
COPY rootfs/ /
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN ["/sbin/ldconfig"]
ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root
RUN chmod 1777 /tmp && ln -s python$VERSION /usr/local/bin/python3 && ln -s python$VERSION /usr/local/bin/python \
    && python3 -m ensurepip --default-pip && rm -rf /root/.cache
CMD ["python3"]
DOCKERFILE

docker build -q -t "$TAG" --label "batch-emulator.base-python=$("$PYTHON" -c 'import sys; print(sys.version.split()[0])')" "$CONTEXT" >/dev/null
docker run --rm "$TAG" python3 -c 'import ssl, sqlite3, ctypes, json, pip, ctypes.util; ctypes.CDLL("libpthread.so.0"); ctypes.CDLL("libstdc++.so.6"); print("base ok:", __import__("sys").version.split()[0])'
echo "$TAG"
