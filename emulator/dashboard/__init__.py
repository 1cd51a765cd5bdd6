"""The dashboard: a server-rendered web UI at /_emulator/ui/ for what AWS Batch users check in the
console: queues and what they hold, why a job waits, its attempts, an array's children, and the
live log of a running job.

Flask templates and a little plain JavaScript shipped in the package (no build step, nothing
fetched at run time). Every page reads through the services the API uses (`BatchProvider`,
`LogsProvider`, the events buffer) and keeps nothing of its own; cancel and terminate call the
real operations. Live views poll small fragments once a second, each a read under the engine's
lock of O(page) cost. Under --auth every request needs HTTP Basic with a configured key pair
(`access.py`). Bad ids, filters and tokens get a readable 400/404 page; user text is escaped.

`pages.py` serves the pages, `live.py` the fragments and JSON the pages poll, `actions.py` the
buttons; the `*page`/`overview`/`joblist`/`logview` modules build what the templates show.
"""

from __future__ import annotations

from emulator.dashboard.blueprint import UI_PREFIX, create_dashboard_blueprint

__all__ = ["UI_PREFIX", "create_dashboard_blueprint"]
