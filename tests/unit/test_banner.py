"""The start-up banner says where the dashboard is."""

from __future__ import annotations

from emulator.__main__ import banner
from emulator.config import Settings
from emulator.dashboard import UI_PREFIX


def test_banner_gives_the_dashboard_url_after_the_servers_own():
    lines = banner("http://127.0.0.1:8734", Settings(), "process", "")
    assert lines[0].endswith("on http://127.0.0.1:8734")  # the first URL printed is the server's
    assert "  dashboard: http://127.0.0.1:8734/_emulator/ui/" in lines
    assert UI_PREFIX + "/" == "/_emulator/ui/"


def test_banner_under_auth_says_the_dashboard_wants_a_key_pair():
    lines = banner("http://127.0.0.1:8734", Settings(auth_keys="AKID:SECRET"), "process", "")
    dashboard = next(line for line in lines if "dashboard:" in line)
    assert "access key id and secret" in dashboard
    assert "SECRET" not in dashboard
