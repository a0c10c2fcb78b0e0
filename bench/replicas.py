"""The processes of the replica figure: a redis-server, and HAProxy round-robin in front of
several `jobgraph serve` replicas (Debian packages, installed by `make install`)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")
HAPROXY = os.environ.get("HAPROXY", "/usr/sbin/haproxy")
CURSOR_SECRET_ENV = "JOBGRAPH_CURSOR_SECRET"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def missing_tools() -> list[str]:
    """The Debian binaries this figure needs that are not installed."""
    return [tool for tool in (REDIS_SERVER, HAPROXY) if not os.access(tool, os.X_OK)]


def haproxy_config(port: int, servers: Mapping[str, int]) -> str:
    """Round-robin over `servers` (name -> port on 127.0.0.1), a /healthz check, and a
    failed connection retried on another replica; the replica's name in `X-Served-By`."""
    lines = "\n".join(
        f"  server {name} 127.0.0.1:{server_port} check inter 300ms fall 1 rise 1"
        for name, server_port in servers.items()
    )
    return f"""global
  maxconn 4096

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch 1

frontend jobgraph
  bind 127.0.0.1:{port}
  default_backend replicas

backend replicas
  balance roundrobin
  option httpchk GET /healthz
  http-response set-header X-Served-By %[srv_name]
{lines}
"""


def replica_config(
    directory: Path,
    sources: Sequence[Mapping[str, Any]],
    *,
    backend: str,
    redis_url: str,
    cache_ttl_s: float,
) -> Path:
    """One config for every replica: the same sources, cursor secret and cache."""
    lines = [
        "[server]",
        'host = "127.0.0.1"',
        "port = 0",
        "graphiql = false",
        f'cursor_secret_env = "{CURSOR_SECRET_ENV}"',
        "",
        "[cache]",
        f'backend = "{backend}"',
    ]
    if backend == "redis":
        lines.append(f"redis_url = {json.dumps(redis_url)}")
    lines.append("")
    for source in sources:
        lines.append("[[sources]]")
        for key, value in {**source, "cache_ttl_s": cache_ttl_s}.items():
            lines.append(f"{key} = {json.dumps(value)}")
        lines.append("")
    path = directory / f"jobgraph-replica-{backend}.toml"
    path.write_text("\n".join(lines))
    return path


@dataclass
class Redis:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self, *words: str) -> bytes:
        """One command over RESP, its first reply line."""
        request = f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words)
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(request.encode())
            return sock.recv(64)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_redis(directory: Path, timeout: float = 10.0) -> Redis:
    port = free_port()
    process = subprocess.Popen(
        [
            *(REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", ""),
            *("--appendonly", "no", "--dir", str(directory), "--daemonize", "no"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    redis = Redis(process, port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if redis.command("PING").startswith(b"+PONG"):
                return redis
        except OSError:
            time.sleep(0.05)
    redis.stop()
    raise RuntimeError("redis-server did not answer PING")


def start_haproxy(
    directory: Path, servers: Mapping[str, int]
) -> tuple[subprocess.Popen[bytes], str]:
    """HAProxy in the foreground on a free port; (its process, its URL)."""
    port = free_port()
    config = directory / "haproxy.cfg"
    config.write_text(haproxy_config(port, servers))
    process = subprocess.Popen(
        [HAPROXY, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return process, f"http://127.0.0.1:{port}"


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
