"""Child processes of a bench run (simulators, gateway, load generator) and what /proc says
about them: CPU time, resident memory, which core they may run on."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PYTHON = sys.executable
ROOT = Path(__file__).resolve().parent.parent
_URL = re.compile(r"http://([\w.\-]+):(\d+)")


def cores() -> int:
    return len(os.sched_getaffinity(0))


def pinned(command: Sequence[str], cpus: str | None) -> list[str]:
    """`command` run under `taskset -c cpus` when taskset exists and cpus is given."""
    if cpus is None or shutil.which("taskset") is None:
        return list(command)
    return ["taskset", "-c", cpus, *command]


def children_of(pid: int) -> list[int]:
    """Every descendant of `pid` (forked gateway workers)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
        except (FileNotFoundError, PermissionError):
            continue
        for child in text.split():
            found.append(int(child))
            found.extend(children_of(int(child)))
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    # After "pid (comm)": state is field 3, utime field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass
class Service:
    """A started server process and the URL it printed."""

    name: str
    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def serving_pids(self) -> list[int]:
        """The processes that serve requests: the workers if it forked any, else itself."""
        return children_of(self.pid) or [self.pid]

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in [self.pid, *children_of(self.pid)])

    def stop(self, timeout: float = 10.0) -> None:
        """SIGINT (a clean exit that writes profiles and reaps workers), then SIGKILL."""
        workers = children_of(self.pid)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def start(name: str, command: Sequence[str], env: dict[str, str], timeout: float = 30.0) -> Service:
    """Start a server that prints its http://host:port on stdout; wait for that line."""
    process = subprocess.Popen(
        list(command),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # A shell's background job ignores SIGINT; the servers must not, it is how they stop.
        preexec_fn=_default_sigint,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        match = _URL.search(line)
        if match:
            service = Service(name, process, f"http://{match.group(1)}:{match.group(2)}", lines)
            # Keep reading its output so that a chatty server never blocks on a full pipe.
            threading.Thread(target=_drain, args=(process, lines), daemon=True).start()
            return service
    process.kill()
    process.wait()
    raise RuntimeError(f"{name} did not start: {' | '.join(lines[-10:])}")


def _drain(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.rstrip())
        del lines[:-200]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
