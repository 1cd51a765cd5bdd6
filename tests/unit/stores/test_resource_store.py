"""The ResourceStore contract, run against the memory and SQLite stores: documents by kind and ARN,
copies in and out, prefix scans, and creation order (an update keeps a document's place)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from emulator.stores.resources import MemoryResourceStore
from emulator.stores.sqlite import SqliteResourceStore, StateDatabase

PREFIX = "arn:aws:batch:us-east-1:123456789012:"
OTHER = "arn:aws:batch:eu-west-1:123456789012:"


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[MemoryResourceStore]:
    if request.param == "memory":
        yield MemoryResourceStore()
        return
    database = StateDatabase(tmp_path / "state")
    yield SqliteResourceStore(database)
    database.close()


def doc(name: str, **extra) -> dict:
    return {"_arn": PREFIX + name, "name": name, "nested": {"list": [1, 2.5, "é", None, True]}, **extra}


def test_put_then_get_returns_an_equal_copy(store) -> None:
    document = doc("a", tags={"k": "v"})
    store.put("job-queue", PREFIX + "a", document)
    got = store.get("job-queue", PREFIX + "a")
    assert got == document
    got["nested"]["list"].append("changed")
    document["name"] = "changed too"
    assert store.get("job-queue", PREFIX + "a") == doc("a", tags={"k": "v"})


def test_get_of_a_missing_key_or_kind_is_none(store) -> None:
    store.put("job-queue", PREFIX + "a", doc("a"))
    assert store.get("job-queue", PREFIX + "b") is None
    assert store.get("compute-environment", PREFIX + "a") is None


def test_list_keeps_creation_order_and_an_update_keeps_its_place(store) -> None:
    for name in ["c", "a", "b"]:
        store.put("job-queue", PREFIX + name, doc(name))
    store.put("job-queue", PREFIX + "c", doc("c", state="DISABLED"))
    assert [d["name"] for d in store.list("job-queue")] == ["c", "a", "b"]
    assert store.list("job-queue")[0]["state"] == "DISABLED"


def test_a_deleted_then_recreated_document_goes_last(store) -> None:
    for name in ["a", "b", "c"]:
        store.put("job-queue", PREFIX + name, doc(name))
    store.delete("job-queue", PREFIX + "a")
    store.delete("job-queue", PREFIX + "missing")  # no error
    store.put("job-queue", PREFIX + "a", doc("a"))
    assert [d["name"] for d in store.list("job-queue")] == ["b", "c", "a"]


def test_list_by_prefix_is_a_tenants_view(store) -> None:
    store.put("job-queue", PREFIX + "a", doc("a"))
    store.put("job-queue", OTHER + "b", {"_arn": OTHER + "b", "name": "b"})
    store.put("compute-environment", PREFIX + "c", doc("c"))
    assert [d["name"] for d in store.list("job-queue", PREFIX)] == ["a"]
    assert [d["name"] for d in store.list("job-queue", OTHER)] == ["b"]
    assert [d["name"] for d in store.list("job-queue")] == ["a", "b"]
    assert store.list("job-queue", "arn:aws:batch:ap-south-1:") == []
    assert store.list("nothing-of-this-kind") == []


def test_prefix_ending_in_the_last_code_point(store) -> None:
    top = chr(0x10FFFF)
    for key in ["a" + top, "a" + top + "x", "b"]:
        store.put("tags", key, {"key": key})
    assert [d["key"] for d in store.list("tags", "a" + top)] == ["a" + top, "a" + top + "x"]


def test_clear_drops_every_kind(store) -> None:
    store.put("job-queue", PREFIX + "a", doc("a"))
    store.put("tags", PREFIX + "a", {"k": "v"})
    store.clear()
    assert store.list("job-queue") == []
    assert store.get("tags", PREFIX + "a") is None


def test_lock_is_reentrant_and_held_across_a_read_check_write(store) -> None:
    with store.lock:
        with store.lock:
            if store.get("job-queue", PREFIX + "a") is None:
                store.put("job-queue", PREFIX + "a", doc("a"))
    assert store.get("job-queue", PREFIX + "a") is not None


def test_concurrent_unique_name_checks_create_each_name_once(store) -> None:
    created: list[str] = []

    def create(worker: int) -> None:
        for index in range(30):
            key = PREFIX + f"q{index}"
            with store.lock:
                if store.get("job-queue", key) is None:
                    store.put("job-queue", key, doc(f"q{index}", worker=worker))
                    created.append(key)

    threads = [threading.Thread(target=create, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(created) == sorted({PREFIX + f"q{i}" for i in range(30)})
    assert len(store.list("job-queue")) == 30


def test_sqlite_documents_survive_reopening(tmp_path) -> None:
    database = StateDatabase(tmp_path / "state")
    SqliteResourceStore(database).put("job-queue", PREFIX + "a", doc("a"))
    database.close()
    reopened = StateDatabase(tmp_path / "state")
    assert SqliteResourceStore(reopened).list("job-queue") == [doc("a")]
    reopened.close()


def test_scan_lists_like_list_by_prefix_in_creation_order(store) -> None:
    store.put("job-definition", PREFIX + "b", doc("b"))
    store.put("job-definition", OTHER + "c", doc("c"))
    store.put("job-definition", PREFIX + "a", doc("a"))
    assert (
        store.scan("job-definition", PREFIX) == store.list("job-definition", PREFIX) == [doc("b"), doc("a")]
    )
    assert store.scan("job-queue") == []
