"""The tar archives the Docker executor puts into a container and reads back from one."""

from __future__ import annotations

import io
import tarfile

from emulator.executors.container_files import (
    DIRECTORY_MODE,
    FILE_MODE,
    build_archive,
    read_archive_file,
)


def members(archive: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as opened:
        return {member.name: member for member in opened.getmembers()}


def single_file_archive(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_archive_holds_files_their_parents_and_the_directories_asked_for():
    archive = build_archive(
        [("/opt/ml/input/config/hyperparameters.json", '{"epochs": "3"}')], ["/opt/ml/model"]
    )

    found = members(archive)
    assert sorted(found) == [
        "opt",
        "opt/ml",
        "opt/ml/input",
        "opt/ml/input/config",
        "opt/ml/input/config/hyperparameters.json",
        "opt/ml/model",
    ]
    assert found["opt/ml/model"].isdir() and found["opt/ml/model"].mode == DIRECTORY_MODE
    config = found["opt/ml/input/config/hyperparameters.json"]
    assert config.isfile() and config.mode == FILE_MODE
    with tarfile.open(fileobj=io.BytesIO(archive)) as opened:
        assert opened.extractfile(config.name).read() == b'{"epochs": "3"}'


def test_archive_paths_cannot_climb_out_of_the_root():
    found = members(build_archive([("/opt/../../etc/x", "y")], ["/../../tmp/z"]))

    assert sorted(found) == ["etc", "etc/x", "tmp", "tmp/z"]


def test_reading_back_a_file_decodes_it_and_stops_at_the_limit():
    chunks = [single_file_archive("failure", "bad hyperparameter ✗\n".encode())]

    assert read_archive_file(chunks) == "bad hyperparameter ✗\n"
    assert read_archive_file(chunks, limit_bytes=3) == "bad"


def test_reading_back_something_that_is_not_a_file_gives_none():
    assert read_archive_file([build_archive([], ["/opt/ml/output"])]) is None
    assert read_archive_file([b"not a tar archive"]) is None


def test_reading_back_a_huge_file_reads_the_stream_no_further_than_the_limit():
    archive = single_file_archive("failure", b"x" * 1_000_000)
    consumed = []

    def chunks():
        for start in range(0, len(archive), 4096):
            consumed.append(4096)
            yield archive[start : start + 4096]

    assert read_archive_file(chunks(), limit_bytes=1024) == "x" * 1024
    assert sum(consumed) < 64 * 1024
