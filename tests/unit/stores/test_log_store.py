"""The LogStore contract, run against every implementation: memory and SQLite."""

from __future__ import annotations

import threading

import pytest

from emulator.stores.base import (
    LogGroupExistsError,
    LogGroupNotFoundError,
    LogStreamExistsError,
    LogStreamNotFoundError,
)
from emulator.stores.memory import MemoryLogStore
from emulator.stores.sqlite import SqliteLogStore, StateDatabase

ACCOUNT = "123456789012"
REGION = "us-east-1"
GROUP = "/aws/batch/job"
T0 = 1_700_000_000_000


class FakeTime:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def now() -> FakeTime:
    return FakeTime()


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, now: FakeTime, tmp_path) -> MemoryLogStore:
    if request.param == "memory":
        yield MemoryLogStore(now_ms=now)
        return
    database = StateDatabase(tmp_path / "state")
    yield SqliteLogStore(database, now_ms=now)
    database.close()


def put(store: MemoryLogStore, stream: str, events: list[tuple[int, str]], group: str = GROUP) -> None:
    store.put_events(ACCOUNT, REGION, group, stream, events)


def read(store: MemoryLogStore, stream: str, **query) -> list[tuple[int, str]]:
    query.setdefault("limit", 10_000)
    return [(e.timestamp_ms, e.message) for e in store.read_events(ACCOUNT, REGION, GROUP, stream, **query)]


# --- what executors call --------------------------------------------------------------------------


def test_ensure_stream_creates_group_and_stream_once(store: MemoryLogStore, now: FakeTime) -> None:
    store.ensure_stream(ACCOUNT, REGION, GROUP, "job/default/a")
    now.now += 5
    store.ensure_stream(ACCOUNT, REGION, GROUP, "job/default/a")

    group = store.get_group(ACCOUNT, REGION, GROUP)
    stream = store.get_stream(ACCOUNT, REGION, GROUP, "job/default/a")
    assert group.created_at_ms == T0
    assert group.arn == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:*"
    assert stream.created_at_ms == T0
    assert stream.arn == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:log-stream:job/default/a"
    assert (stream.first_event_ms, stream.last_event_ms, stream.upload_count) == (None, None, None)


def test_put_events_creates_missing_group_and_stream(store: MemoryLogStore) -> None:
    put(store, "s", [(T0, "hello")])
    assert read(store, "s") == [(T0, "hello")]
    assert [g.name for g in store.list_groups(ACCOUNT, REGION)] == [GROUP]


def test_put_events_records_times_and_bytes(store: MemoryLogStore, now: FakeTime) -> None:
    now.now = T0 + 100
    put(store, "s", [(T0 + 1, "é"), (T0 + 2, "ab")])
    stream = store.get_stream(ACCOUNT, REGION, GROUP, "s")
    assert (stream.first_event_ms, stream.last_event_ms) == (T0 + 1, T0 + 2)
    assert stream.last_ingestion_ms == T0 + 100
    assert stream.upload_count == 1
    # UTF-8 bytes plus 26 per event, as CloudWatch Logs counts them
    assert store.get_group(ACCOUNT, REGION, GROUP).stored_bytes == (2 + 26) + (2 + 26)
    assert [e.ingestion_ms for e in store.read_events(ACCOUNT, REGION, GROUP, "s", limit=10)] == [
        T0 + 100
    ] * 2


def test_events_are_kept_in_timestamp_order_whatever_the_arrival_order(store: MemoryLogStore) -> None:
    put(store, "s", [(T0 + 5, "e"), (T0 + 1, "a")])  # an unsorted batch
    put(store, "s", [(T0 + 3, "c")])  # a late event
    put(store, "s", [(T0 + 3, "c2"), (T0 + 9, "z")])  # equal timestamps keep arrival order
    assert read(store, "s") == [(T0 + 1, "a"), (T0 + 3, "c"), (T0 + 3, "c2"), (T0 + 5, "e"), (T0 + 9, "z")]


def test_put_events_with_no_events_changes_nothing(store: MemoryLogStore) -> None:
    put(store, "s", [])
    assert store.get_stream(ACCOUNT, REGION, GROUP, "s").upload_count is None


# --- reading ranges -------------------------------------------------------------------------------


@pytest.fixture
def ten(store: MemoryLogStore) -> MemoryLogStore:
    put(store, "s", [(T0 + i, f"m{i}") for i in range(10)])
    return store


def messages(events: list[tuple[int, str]]) -> list[str]:
    return [message for _, message in events]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, [f"m{i}" for i in range(10)]),
        ({"start_ms": T0 + 3, "end_ms": T0 + 6}, ["m3", "m4", "m5"]),  # end is exclusive
        ({"limit": 3}, ["m0", "m1", "m2"]),
        ({"limit": 3, "from_end": True}, ["m7", "m8", "m9"]),
        ({"start_ms": T0 + 2, "end_ms": T0 + 8, "limit": 2, "from_end": True}, ["m6", "m7"]),
        ({"after": (T0 + 7, 0)}, ["m7", "m8", "m9"]),
        ({"after": (T0 + 7, 8)}, ["m8", "m9"]),  # the gap just after m7 (sequence 7)
        ({"before": (T0 + 2, 2)}, ["m0", "m1"]),
        ({"before": (T0 + 5, 5), "limit": 2, "from_end": True}, ["m3", "m4"]),
        ({"after": (T0 + 20, 0)}, []),
        ({"start_ms": T0 + 5, "end_ms": T0 + 5}, []),
    ],
    ids=[
        "everything",
        "time-range",
        "first-n",
        "last-n",
        "last-n-of-range",
        "after-gap",
        "after-gap-mid-timestamp",
        "before-gap",
        "last-n-before-gap",
        "after-the-end",
        "empty-range",
    ],
)
def test_read_events(ten: MemoryLogStore, query: dict, expected: list[str]) -> None:
    assert messages(read(ten, "s", **query)) == expected


def test_read_events_of_missing_group_or_stream(store: MemoryLogStore) -> None:
    with pytest.raises(LogGroupNotFoundError):
        store.read_events(ACCOUNT, REGION, GROUP, "s", limit=1)
    store.ensure_stream(ACCOUNT, REGION, GROUP, "other")
    with pytest.raises(LogStreamNotFoundError):
        store.read_events(ACCOUNT, REGION, GROUP, "s", limit=1)


def test_append_events_requires_existing_stream(store: MemoryLogStore) -> None:
    with pytest.raises(LogGroupNotFoundError):
        store.append_events(ACCOUNT, REGION, GROUP, "s", [(T0, "x")])
    store.create_group(ACCOUNT, REGION, GROUP)
    with pytest.raises(LogStreamNotFoundError):
        store.append_events(ACCOUNT, REGION, GROUP, "s", [(T0, "x")])
    store.create_stream(ACCOUNT, REGION, GROUP, "s")
    info = store.append_events(ACCOUNT, REGION, GROUP, "s", [(T0, "x")], at_ms=T0 + 7)
    assert (info.upload_count, info.last_ingestion_ms) == (1, T0 + 7)


# --- filtering across streams ---------------------------------------------------------------------


@pytest.fixture
def three_streams(store: MemoryLogStore) -> MemoryLogStore:
    put(store, "job/a", [(T0 + 1, "a1 ERROR"), (T0 + 4, "a4")])
    put(store, "job/b", [(T0 + 2, "b2 ERROR"), (T0 + 4, "b4 ERROR")])
    put(store, "other/c", [(T0 + 3, "c3 ERROR")])
    return store


def filtered(store: MemoryLogStore, **query) -> list[str]:
    query.setdefault("limit", 100)
    return [e.message for e in store.filter_events(ACCOUNT, REGION, GROUP, **query).events]


def test_filter_events_merges_streams_in_time_order(three_streams: MemoryLogStore) -> None:
    # equal timestamps: the older stream first
    assert filtered(three_streams) == ["a1 ERROR", "b2 ERROR", "c3 ERROR", "a4", "b4 ERROR"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"stream_prefix": "job/"}, ["a1 ERROR", "b2 ERROR", "a4", "b4 ERROR"]),
        ({"streams": ["other/c", "job/a", "missing"]}, ["a1 ERROR", "c3 ERROR", "a4"]),
        ({"start_ms": T0 + 2, "end_ms": T0 + 4}, ["b2 ERROR", "c3 ERROR"]),
        ({"matches": lambda message: "ERROR" in message}, ["a1 ERROR", "b2 ERROR", "c3 ERROR", "b4 ERROR"]),
        ({"limit": 2}, ["a1 ERROR", "b2 ERROR"]),
    ],
    ids=["prefix", "named-streams", "time-range", "predicate", "limit"],
)
def test_filter_events_selects(three_streams: MemoryLogStore, query: dict, expected: list[str]) -> None:
    assert filtered(three_streams, **query) == expected


def test_filter_events_pages_on_from_the_last_key(three_streams: MemoryLogStore) -> None:
    seen: list[str] = []
    after = None
    while True:
        result = three_streams.filter_events(ACCOUNT, REGION, GROUP, after=after, limit=2)
        seen += [e.message for e in result.events]
        if not result.has_more:
            break
        last = result.events[-1]
        after = (last.timestamp_ms, last.stream_id, last.sequence)
    assert seen == ["a1 ERROR", "b2 ERROR", "c3 ERROR", "a4", "b4 ERROR"]


def test_filter_events_reports_searched_streams(three_streams: MemoryLogStore) -> None:
    result = three_streams.filter_events(ACCOUNT, REGION, GROUP, stream_prefix="job/", limit=1)
    assert result.searched_streams == ["job/a", "job/b"]
    assert result.has_more


def test_filter_events_of_missing_group(store: MemoryLogStore) -> None:
    with pytest.raises(LogGroupNotFoundError):
        store.filter_events(ACCOUNT, REGION, GROUP, limit=1)


# --- groups and streams ---------------------------------------------------------------------------


def test_create_group_twice_fails(store: MemoryLogStore) -> None:
    store.create_group(ACCOUNT, REGION, GROUP, tags={"team": "a"}, at_ms=T0 - 1)
    with pytest.raises(LogGroupExistsError):
        store.create_group(ACCOUNT, REGION, GROUP)
    assert store.get_group(ACCOUNT, REGION, GROUP).created_at_ms == T0 - 1
    assert store.get_tags(ACCOUNT, REGION, GROUP) == {"team": "a"}


def test_groups_are_listed_by_name(store: MemoryLogStore) -> None:
    for name in ["b", "a/x", "c", "a"]:
        store.create_group(ACCOUNT, REGION, name)
    assert [g.name for g in store.list_groups(ACCOUNT, REGION)] == ["a", "a/x", "b", "c"]


def test_delete_group_drops_its_streams(store: MemoryLogStore) -> None:
    put(store, "s", [(T0, "x")])
    store.delete_group(ACCOUNT, REGION, GROUP)
    with pytest.raises(LogGroupNotFoundError):
        store.get_stream(ACCOUNT, REGION, GROUP, "s")
    with pytest.raises(LogGroupNotFoundError):
        store.delete_group(ACCOUNT, REGION, GROUP)
    store.create_group(ACCOUNT, REGION, GROUP)
    assert store.list_streams(ACCOUNT, REGION, GROUP) == []


def test_streams_are_listed_by_name_and_prefix(store: MemoryLogStore) -> None:
    store.create_group(ACCOUNT, REGION, GROUP)
    for name in ["job/b", "x", "job/a", "jo", "job0"]:
        store.create_stream(ACCOUNT, REGION, GROUP, name)
    assert [s.name for s in store.list_streams(ACCOUNT, REGION, GROUP)] == [
        "jo",
        "job/a",
        "job/b",
        "job0",
        "x",
    ]
    assert [s.name for s in store.list_streams(ACCOUNT, REGION, GROUP, prefix="job/")] == ["job/a", "job/b"]
    assert store.list_streams(ACCOUNT, REGION, GROUP, prefix="zzz") == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"limit": 2}, ["a", "b"]),
        ({"beyond": "b"}, ["c", "d"]),
        ({"beyond": "bb", "limit": 1}, ["c"]),
        ({"descending": True, "limit": 3}, ["d", "c", "b"]),
        ({"descending": True, "beyond": "c"}, ["b", "a"]),
        ({"prefix": "c", "beyond": "a"}, ["c"]),
        ({"beyond": "d"}, []),
        ({"limit": 0}, []),
    ],
    ids=["first-page", "beyond", "beyond-a-missing-name", "descending", "descending-beyond", "prefix-beyond",
         "beyond-the-end", "zero-limit"],
)  # fmt: skip
def test_list_streams_pages_by_name(store: MemoryLogStore, query: dict, expected: list[str]) -> None:
    store.create_group(ACCOUNT, REGION, GROUP)
    for name in ["d", "b", "a", "c"]:
        store.create_stream(ACCOUNT, REGION, GROUP, name)
    assert [s.name for s in store.list_streams(ACCOUNT, REGION, GROUP, **query)] == expected


def test_list_streams_prefix_ending_in_the_last_code_point(store: MemoryLogStore) -> None:
    top = chr(0x10FFFF)
    store.create_group(ACCOUNT, REGION, GROUP)
    for name in ["a" + top, "a" + top + "x", "b"]:
        store.create_stream(ACCOUNT, REGION, GROUP, name)
    assert [s.name for s in store.list_streams(ACCOUNT, REGION, GROUP, prefix="a" + top)] == [
        "a" + top,
        "a" + top + "x",
    ]


def test_create_stream_errors(store: MemoryLogStore) -> None:
    with pytest.raises(LogGroupNotFoundError):
        store.create_stream(ACCOUNT, REGION, GROUP, "s")
    store.create_group(ACCOUNT, REGION, GROUP)
    store.create_stream(ACCOUNT, REGION, GROUP, "s")
    with pytest.raises(LogStreamExistsError):
        store.create_stream(ACCOUNT, REGION, GROUP, "s")


def test_delete_stream_gives_back_its_bytes(store: MemoryLogStore) -> None:
    put(store, "keep", [(T0, "abc")])
    put(store, "drop", [(T0, "abcdef")])
    store.delete_stream(ACCOUNT, REGION, GROUP, "drop")
    assert store.get_group(ACCOUNT, REGION, GROUP).stored_bytes == 3 + 26
    assert [s.name for s in store.list_streams(ACCOUNT, REGION, GROUP)] == ["keep"]
    with pytest.raises(LogStreamNotFoundError):
        store.delete_stream(ACCOUNT, REGION, GROUP, "drop")


def test_retention_and_tags(store: MemoryLogStore) -> None:
    store.create_group(ACCOUNT, REGION, GROUP)
    store.set_retention(ACCOUNT, REGION, GROUP, 7)
    assert store.get_group(ACCOUNT, REGION, GROUP).retention_days == 7
    store.set_retention(ACCOUNT, REGION, GROUP, None)
    assert store.get_group(ACCOUNT, REGION, GROUP).retention_days is None
    store.tag_group(ACCOUNT, REGION, GROUP, {"a": "1", "b": "2"})
    store.untag_group(ACCOUNT, REGION, GROUP, ["a", "missing"])
    assert store.get_tags(ACCOUNT, REGION, GROUP) == {"b": "2"}


def test_accounts_and_regions_are_separate(store: MemoryLogStore) -> None:
    put(store, "s", [(T0, "x")])
    assert store.list_groups("210987654321", REGION) == []
    assert store.list_groups(ACCOUNT, "eu-west-1") == []
    store.create_group(ACCOUNT, "eu-west-1", GROUP)  # same name, other region: no clash
    assert store.get_group(ACCOUNT, "eu-west-1", GROUP).arn.startswith("arn:aws:logs:eu-west-1:")


def test_clear_drops_everything(store: MemoryLogStore) -> None:
    put(store, "s", [(T0, "x")])
    store.create_group("210987654321", "eu-west-1", "g")
    store.clear()
    assert store.list_groups(ACCOUNT, REGION) == []
    assert store.list_groups("210987654321", "eu-west-1") == []


# --- concurrency and scale ------------------------------------------------------------------------


def test_concurrent_writers_and_readers_see_consistent_streams(store: MemoryLogStore) -> None:
    writers, batches, per_batch = 8, 50, 20
    failures: list[BaseException] = []

    def write(worker: int) -> None:
        for batch in range(batches):
            base = T0 + batch * per_batch
            events = [(base + i, f"w{worker} b{batch} e{i}") for i in range(per_batch)]
            put(store, f"stream-{worker % 4}", events)

    def read_while_writing() -> None:
        try:
            for _ in range(200):
                if not store.list_groups(ACCOUNT, REGION):
                    continue
                for stream in store.list_streams(ACCOUNT, REGION, GROUP):
                    got = store.read_events(ACCOUNT, REGION, GROUP, stream.name, limit=10_000)
                    assert got == sorted(got)
                store.filter_events(ACCOUNT, REGION, GROUP, limit=500)
        except BaseException as error:  # surfaced in the test thread below
            failures.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    threads += [threading.Thread(target=read_while_writing) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not failures
    total = sum(
        len(store.read_events(ACCOUNT, REGION, GROUP, f"stream-{s}", limit=100_000)) for s in range(4)
    )
    assert total == writers * batches * per_batch
    assert store.get_group(ACCOUNT, REGION, GROUP).stored_bytes > 0


def test_an_array_job_worth_of_streams(store: MemoryLogStore) -> None:
    """A 10,000-child array job writes one stream per child; listing by prefix stays exact."""
    for child in range(10_000):
        put(store, f"def/default/{child:05d}", [(T0 + child, f"child {child}")])
    assert len(store.list_streams(ACCOUNT, REGION, GROUP, prefix="def/default/0")) == 10_000
    assert [s.name for s in store.list_streams(ACCOUNT, REGION, GROUP, prefix="def/default/0999")] == [
        f"def/default/0999{i}" for i in range(10)
    ]
    result = store.filter_events(ACCOUNT, REGION, GROUP, start_ms=T0 + 9_990, limit=100)
    assert [e.message for e in result.events] == [f"child {i}" for i in range(9_990, 10_000)]
