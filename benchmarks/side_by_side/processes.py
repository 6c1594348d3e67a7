"""Running the benchmark's children: one measurement each, in a fresh process, with its
output logged and timed line by line and its peak memory watched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from .locations import ENTRY_SCRIPT


class TreeMemory(threading.Thread):
    """Polls the summed resident memory of a process and its descendants (data-loader
    workers included) every `interval` seconds; `peak_mib` is the largest sum seen."""

    def __init__(self, pid, interval=0.1):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_mib = 0.0
        self.done = threading.Event()

    @staticmethod
    def children(pid):
        found = []
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                found += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
        return found

    @staticmethod
    def rss_kib(pid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def run(self):
        while not self.done.is_set():
            pids, total = [self.pid], 0
            while pids:
                pid = pids.pop()
                total += self.rss_kib(pid)
                pids += self.children(pid)
            self.peak_mib = max(self.peak_mib, total / 1024)
            self.done.wait(self.interval)


class LineClock(threading.Thread):
    """Copies a child's output to its log, noting when each line arrived."""

    def __init__(self, stream, out):
        super().__init__(daemon=True)
        self.stream, self.out = stream, out
        self.lines = []  # (perf_counter seconds, line)

    def run(self):
        for line in iter(self.stream.readline, b""):
            self.lines.append((time.perf_counter(), line.decode(errors="replace")))
            self.out.write(line.decode(errors="replace"))


def run_child(command: list[str], cwd: Path, log: Path, timeout: float) -> dict:
    """Run a command, its output to `log`; exit code, wall seconds, the peak RSS of its
    main process (exact, from the kernel) and of its process tree (polled), and when each
    output line arrived (`lines`)."""
    start = time.perf_counter()
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        clock = LineClock(process.stdout, out)
        clock.start()
        watcher = TreeMemory(process.pid)
        watcher.start()
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
        process.returncode = os.waitstatus_to_exitcode(status)
        watcher.done.set()
        watcher.join()
        clock.join(timeout=10)
    return {"returncode": process.returncode, "wall_s": round(time.perf_counter() - start, 2),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "peak_tree_rss_mib": round(watcher.peak_mib, 1), "log": str(log),
            "lines": clock.lines}


def child_command(mode: str, impl: str, settings: dict, out: Path) -> list[str]:
    """The command line of one child: the entry script with --child (see
    orchestration.main)."""
    return [sys.executable, str(ENTRY_SCRIPT), "--child", mode, impl,
            json.dumps(settings), str(out)]


def run_json_child(mode, impl, settings, work: Path, tag: str, timeout=1800) -> dict:
    out = work / f"{tag}.json"
    out.unlink(missing_ok=True)
    result = run_child(child_command(mode, impl, settings, out), work, work / f"{tag}.log",
                       timeout)
    if result["returncode"] != 0 or not out.is_file():
        tail = Path(result["log"]).read_text(errors="replace").splitlines()[-15:]
        raise RuntimeError(f"{mode}/{impl} failed (exit {result['returncode']}):\n  "
                           + "\n  ".join(tail))
    data = json.loads(out.read_text())
    data["process"] = {k: v for k, v in result.items() if k != "lines"}
    return data

