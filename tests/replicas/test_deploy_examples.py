"""The deployment examples in README.md and the Dockerfile stay correct: the HAProxy config
passes HAProxy's own check, and the Dockerfile copies only what the repository has."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.replicas.conftest import HAPROXY, ROOT

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def readme_block(language: str) -> str:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) == 1, f"README.md should hold one ```{language} block"
    return str(blocks[0])


def test_the_readme_haproxy_example_passes_haproxys_check(tmp_path: Path) -> None:
    config = tmp_path / "haproxy.cfg"
    config.write_text(readme_block("haproxy"))
    result = subprocess.run(
        [HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_readme_systemd_unit_runs_serve_with_a_config() -> None:
    unit = readme_block("ini")
    exec_start = re.search(r"^ExecStart=(.*)$", unit, flags=re.MULTILINE)
    assert exec_start is not None
    command = shlex.split(exec_start.group(1))
    assert command[1:3] == ["serve", "--config"]


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_the_readme_systemd_unit_passes_systemd_analyze(tmp_path: Path) -> None:
    # The checkout it runs from is not on this machine: any executable stands in for it.
    unit = re.sub(r"^ExecStart=\S+", "ExecStart=/bin/true", readme_block("ini"), flags=re.M)
    path = tmp_path / "jobgraph.service"
    path.write_text(unit)
    assert SYSTEMD_ANALYZE is not None
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    # It reports unknown keys and unreadable values on stderr, yet exits 0.
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.strip() == ""


def test_the_dockerfile_copies_only_what_the_repository_has() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    sources = [
        part
        for line in dockerfile.splitlines()
        if line.startswith("COPY ") and "--from=" not in line
        for part in line.split()[1:-1]
    ]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, flags=re.MULTILINE)
    assert cmd is not None
    assert '"serve"' in cmd.group(1)
