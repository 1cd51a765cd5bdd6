"""Creation-ordered job indexes, so a ListJobs page costs O(log n + page) (reference §8).

ListJobs shows a queue's (or an array's) jobs of one status newest first, ties broken by job id
ascending: the order of the key `(-created_at_ms, job_id)` its pagination tokens carry. A
`JobListing` keeps the `(created_at_ms, job_id)` keys of one (queue, status) or (array parent,
status) in that order, so a page is one bisection and a slice, however many jobs are held.

The keys are stored in reverse, oldest first: a job entering a status is usually the newest one
there (jobs are created, and mostly finish, in time order), so insertion is an append or close to
one instead of a move of the whole list. Which statuses and owners get a listing is the engine's
business; this module only orders keys.
"""

from __future__ import annotations

from collections.abc import Iterator

ListingKey = tuple[int, str]  # (created_at_ms, job_id)


class JobListing:
    """The keys of one index, stored oldest first (the reverse of the listing order), as two
    parallel lists: the creation times (the records' own int objects) and the job ids, so a key
    costs two list slots and no tuple of its own."""

    __slots__ = ("_created_ms", "_job_ids")

    def __init__(self) -> None:
        self._created_ms: list[int] = []
        self._job_ids: list[str] = []

    def __len__(self) -> int:
        return len(self._job_ids)

    def __iter__(self) -> Iterator[str]:
        """Job ids, oldest first."""
        return iter(list(self._job_ids))

    def add(self, key: ListingKey) -> None:
        created_at_ms, job_id = key
        times, ids = self._created_ms, self._job_ids
        if not ids or created_at_ms > times[-1] or (created_at_ms == times[-1] and job_id < ids[-1]):
            times.append(created_at_ms)
            ids.append(job_id)
        else:
            index = self._position(key)
            times.insert(index, created_at_ms)
            ids.insert(index, job_id)

    def discard(self, key: ListingKey) -> None:
        index = self._position(key)
        if (
            index < len(self._job_ids)
            and self._job_ids[index] == key[1]
            and self._created_ms[index] == key[0]
        ):
            del self._created_ms[index]
            del self._job_ids[index]

    def newest(self, after: ListingKey | None = None) -> Iterator[str]:
        """Job ids in listing order (newest first, then by id), starting after the key `after`
        (which need not be held: the page goes on where it would have been)."""
        ids = self._job_ids
        index = len(ids) if after is None else self._position(after)
        for position in range(index - 1, -1, -1):
            yield ids[position]

    def _position(self, key: ListingKey) -> int:
        """How many held keys are listed after `key` (stored before it): where `key` is, or would go."""
        times, ids = self._created_ms, self._job_ids
        low, high = 0, len(ids)
        created_at_ms, job_id = key
        while low < high:
            middle = (low + high) // 2
            held_ms = times[middle]
            if held_ms < created_at_ms or (held_ms == created_at_ms and ids[middle] > job_id):
                low = middle + 1
            else:
                high = middle
        return low
