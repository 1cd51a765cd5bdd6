"""Files put into a container before it starts and read back after it exits, as the tar archives
Docker's archive API (`PUT`/`GET /containers/{id}/archive`) takes and returns.

What a service job run as a SageMaker training container needs (reference §21): its config files
under /opt/ml/input/config, the empty directories SageMaker provides, and /opt/ml/output/failure
read back after the container exits. Talking to the daemon is the Docker executor's business.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections.abc import Iterable
from typing import Any

# Directories are created writable by any user: an image may run as a user other than root, and
# SageMaker's own directories are writable by the training code.
DIRECTORY_MODE = 0o777
FILE_MODE = 0o644
# At most this much of a collected file is kept (SageMaker keeps 1024 characters of a failure).
MAX_COLLECTED_BYTES = 64 * 1024


def build_archive(files: Iterable[tuple[str, str]], directories: Iterable[str]) -> bytes:
    """A tar archive to extract at `/`: every directory named (and each parent of a file or
    directory), then the files as UTF-8 text."""
    files = list(files)
    wanted: dict[str, None] = {}
    for path in [*directories, *(posixpath.dirname(path) for path, _ in files)]:
        _add_with_parents(wanted, path)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for directory in sorted(wanted):  # parents sort before their children
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = DIRECTORY_MODE
            archive.addfile(info)
        for path, text in files:
            data = text.encode()
            info = tarfile.TarInfo(_relative(path))
            info.size = len(data)
            info.mode = FILE_MODE
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def read_archive_file(chunks: Iterable[bytes], limit_bytes: int = MAX_COLLECTED_BYTES) -> str | None:
    """The text of the one regular file in a tar stream (what `GET .../archive?path=<file>`
    returns), at most `limit_bytes` of it; None when the archive holds no regular file. The
    stream is read as it comes and no further than needed: a job may leave a huge file."""
    try:
        with tarfile.open(fileobj=io.BufferedReader(_ChunkReader(chunks)), mode="r|") as archive:
            for member in archive:
                if member.isfile():
                    content = archive.extractfile(member)
                    assert content is not None  # a regular file always has content
                    return content.read(limit_bytes).decode("utf-8", errors="replace")
    except tarfile.TarError:
        return None
    return None


class _ChunkReader(io.RawIOBase):
    """A readable file over an iterable of byte chunks (docker-py's archive stream)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _add_with_parents(wanted: dict[str, None], path: str) -> None:
    relative = _relative(path)
    while relative and relative != ".":
        wanted[relative] = None
        relative = posixpath.dirname(relative)


def _relative(path: str) -> str:
    """`/opt/ml/x` -> `opt/ml/x`: archive members are relative to the extraction point `/`."""
    return posixpath.normpath(path).lstrip("/")
