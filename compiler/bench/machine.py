"""The machine a measurement ran on, and when: shared by `segc bench`'s worker and
benchmarks/vs_paddleseg.py, which record these figures beside what they measure.

Imports nothing heavy.
"""

from __future__ import annotations

import datetime
import os
import platform


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2 ** 20, 1)
    except OSError:
        pass
    return None


def module_version(name: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # noqa: BLE001 - absent or unreadable: simply unknown
        return None


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (empty where the system has none): a busy
    shared machine shows here."""
    if not hasattr(os, "getloadavg"):
        return []
    return [round(v, 2) for v in os.getloadavg()]


def utc_timestamp() -> str:
    """Now, in UTC, as ISO 8601 to the second with a Z: '2026-01-02T03:04:05Z'."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds").replace("+00:00", "Z")
