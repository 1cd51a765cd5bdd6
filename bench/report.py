"""The table of ratios and the JSON file of raw figures.

Every ratio is the emulator's figure divided by the other's, whatever the unit: for a time, lower
is better (1.3 means 30% slower than the floor); for a rate, higher is better (3.0 means three times
moto's rate). Each row says which, through its target.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass, field
from typing import Any

RESULTS_DIR = os.path.join(os.path.dirname(__file__), "results")


@dataclass
class Row:
    workload: str
    unit: str
    emulator: float | None
    moto: float | None = None
    floor: float | None = None
    target: str = ""
    # Computed from the figures by `check`; None where the row has no target.
    met: bool | None = None
    note: str = ""

    @property
    def vs_floor(self) -> float | None:
        return _ratio(self.emulator, self.floor)

    @property
    def vs_moto(self) -> float | None:
        return _ratio(self.emulator, self.moto)


def _ratio(mine: float | None, other: float | None) -> float | None:
    if mine is None or other is None or other == 0 or math.isnan(other) or math.isnan(mine):
        return None
    return mine / other


@dataclass
class Report:
    started_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    mode: str = "full"
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def render(self) -> str:
        headers = ["workload", "unit", "emulator", "moto", "floor", "emu/floor", "emu/moto", "target", "met?"]
        lines = [
            [
                row.workload,
                row.unit,
                _number(row.emulator),
                _number(row.moto),
                _number(row.floor),
                _number(row.vs_floor, ratio=True),
                _number(row.vs_moto, ratio=True),
                row.target,
                {True: "yes", False: "NO", None: ""}[row.met],
            ]
            for row in self.rows
        ]
        widths = [
            max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(headers)
        ]
        out = [" | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
        out.append("-|-".join("-" * w for w in widths))
        out.extend(" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines)
        notes = [f"  [{row.workload}] {row.note}" for row in self.rows if row.note]
        if notes:
            out.append("")
            out.append("notes:")
            out.extend(notes)
        return "\n".join(out)

    def write_json(self, directory: str = RESULTS_DIR) -> str:
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, time.strftime("%Y%m%d-%H%M%S") + f"-{self.mode}.json")
        document = {
            "started_at": self.started_at,
            "mode": self.mode,
            "machine": machine_description(),
            "rows": [{**asdict(row), "vs_floor": row.vs_floor, "vs_moto": row.vs_moto} for row in self.rows],
            "raw": self.raw,
        }
        with open(path, "w") as out:
            json.dump(document, out, indent=2, default=str)
        return path


def _number(value: float | None, *, ratio: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if ratio:
        return f"{value:.2f}x"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def machine_description() -> dict[str, Any]:
    cpu_model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu_model = next(
                (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), ""
            )
    except OSError:
        pass
    memory_kib = 0
    try:
        with open("/proc/meminfo") as meminfo:
            memory_kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration):
        pass
    try:
        docker_version = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        docker_version = ""
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "docker": docker_version or "none",
    }
