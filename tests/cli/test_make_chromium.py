"""`make install` (and so `make test`) gets Debian's chromium itself where apt-get may be run,
and everywhere else stops at once with the one command to run, before any download or test.

Each case runs the real Makefile, copied into an empty directory (a passing check would then stop
at the missing pyproject.toml instead of installing or testing anything), with make variables
standing in for another machine: where chromium lives, the os-release file, the user id, and
whether passwordless sudo works. apt-get and sudo are stand-ins on PATH that only record calls.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"
DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'
UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n'
FEDORA = 'NAME="Fedora Linux"\nID=fedora\n'
ONE_COMMAND = "sudo apt-get install -y chromium"
# apt-get's stand-in: logs its arguments; `install` puts an executable where chromium belongs.
FAKE_APT_GET = """#!/bin/sh
echo "apt-get $*" >> "$FAKE_LOG"
if [ "$1" = install ]; then printf '#!/bin/sh\\n' > "$FAKE_CHROMIUM"; chmod +x "$FAKE_CHROMIUM"; fi
"""
FAKE_SUDO = """#!/bin/sh
echo "sudo $*" >> "$FAKE_LOG"
[ "$1" = -n ] && shift
exec "$@"
"""


class Machine:
    """A directory holding a copy of the Makefile, a fake os-release and fake apt-get/sudo."""

    def __init__(self, root: Path, os_release: str) -> None:
        self.root = root
        self.chromium = root / "usr-bin-chromium"
        self.log = root / "calls.log"
        self.log.touch()
        shutil.copy(MAKEFILE, root / "Makefile")
        (root / "os-release").write_text(os_release)
        self.bin = root / "bin"
        self.bin.mkdir()

    def add_tool(self, name: str, script: str) -> None:
        tool = self.bin / name
        tool.write_text(script)
        tool.chmod(0o755)

    def make(self, target: str, **variables: str) -> subprocess.CompletedProcess[str]:
        assigned = {
            "CHROMIUM": str(self.chromium),
            "OS_RELEASE": str(self.root / "os-release"),
            **variables,
        }
        env = {
            **os.environ,
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "FAKE_LOG": str(self.log),
            "FAKE_CHROMIUM": str(self.chromium),
        }
        return subprocess.run(
            ["make", "--no-print-directory", target, *(f"{k}={v}" for k, v in assigned.items())],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()

    def files(self) -> set[Path]:
        return set(self.root.rglob("*"))


@pytest.fixture
def debian(tmp_path: Path) -> Machine:
    machine = Machine(tmp_path, DEBIAN)
    machine.add_tool("apt-get", FAKE_APT_GET)
    return machine


@pytest.mark.parametrize("target", ["install", "test"])
def test_without_root_or_sudo_make_stops_at_once_with_the_one_command(
    debian: Machine, target: str
) -> None:
    # "At once": make stops at the chromium check having run nothing that could take long or
    # wait for a password (no apt-get, no sudo: both are stand-ins that log their calls) and
    # having downloaded nothing (no .venv or node_modules: the directory is as it was).
    debian.add_tool("sudo", FAKE_SUDO)
    before = debian.files()
    result = debian.make(target, EUID="1000", SUDO_OK="no")
    assert result.returncode != 0
    assert ONE_COMMAND in result.stderr
    assert "pyproject.toml" not in result.stderr, "make went past the chromium check"
    assert debian.calls() == []
    assert debian.files() == before


def test_as_root_on_debian_make_installs_chromium_with_apt_get(debian: Machine) -> None:
    result = debian.make("chromium", EUID="0")
    assert result.returncode == 0, result.stderr
    assert debian.calls() == ["apt-get update -qq", "apt-get install -y -qq chromium"]
    assert os.access(debian.chromium, os.X_OK)


def test_with_passwordless_sudo_on_ubuntu_make_installs_chromium_through_sudo(
    tmp_path: Path,
) -> None:
    ubuntu = Machine(tmp_path, UBUNTU)
    ubuntu.add_tool("apt-get", FAKE_APT_GET)
    ubuntu.add_tool("sudo", FAKE_SUDO)
    result = ubuntu.make("chromium", EUID="1000")
    assert result.returncode == 0, result.stderr
    installs = [call for call in ubuntu.calls() if call.startswith("apt-get")]
    assert installs == ["apt-get update -qq", "apt-get install -y -qq chromium"]
    assert "sudo -n true" in ubuntu.calls()
    assert os.access(ubuntu.chromium, os.X_OK)


def test_an_installed_chromium_is_left_alone(debian: Machine) -> None:
    debian.chromium.write_text("#!/bin/sh\n")
    debian.chromium.chmod(0o755)
    result = debian.make("chromium", EUID="0")
    assert result.returncode == 0, result.stderr
    assert debian.calls() == []


def test_off_debian_make_install_stops_at_once_and_says_where_the_browser_tests_run(
    tmp_path: Path,
) -> None:
    fedora = Machine(tmp_path, FEDORA)
    fedora.add_tool("apt-get", FAKE_APT_GET)
    result = fedora.make("install", EUID="0")
    assert result.returncode != 0
    assert "Debian or Ubuntu" in result.stderr
    assert "pyproject.toml" not in result.stderr
    assert fedora.calls() == []


def test_an_old_python_stops_make_install_before_anything_else(debian: Machine) -> None:
    result = debian.make("install", PYTHON="false", EUID="1000", SUDO_OK="no")
    assert result.returncode != 0
    assert "Python 3.11+" in result.stderr
    assert ONE_COMMAND not in result.stderr
