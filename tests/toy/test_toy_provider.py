"""A sixth provider, defined entirely inside tests/ (`tests/toy/`), plugs in through the
registry and passes the shared suites: the adapter contract, per-provider paging, the federated
merge and node lookups, with no line outside tests/ naming it.

The suites run in a subprocess with `JOBGRAPH_PROVIDER_MODULES=tests.toy.provider` (the registry
reads it once, at import); the toy's cases are picked out by `-k`, and the merge and the
plugged-in checks run whole, since every federated list then holds toy jobs. The subprocess
inherits the environment, so `JOBGRAPH_TEST_FAST_PATH=0` runs it on the general path too."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from resolvers.providers.registry import MODULES_ENV, PROVIDERS

ROOT = Path(__file__).resolve().parents[2]
# Suite file -> how many of its cases must be the toy's (at least).
PARAMETRISED = {
    "tests/adapters/test_adapter_contract.py": 15,  # the adapter contract
    "tests/graph/test_exact_walks.py": 16,  # forward and backward walks, four page sizes
    "tests/graph/test_relay_edge_cases.py": 20,  # the Relay algorithm's edge cases
    "tests/jobs/test_page_cursors.py": 1,  # numbered-page cursors
    "tests/jobs/test_lookups.py": 1,  # node lookups
}
WHOLE = {
    "tests/jobs/test_merged_walks.py": 7,  # the federated merge, toy jobs in every list
    # Federated walks over lists changing between pages and within them (busy projects).
    "tests/graph/test_changing_federated.py": 16,
    "tests/toy/test_toy_plugged_in.py": 5,  # schema, federated list, filters, GraphiQL, config
    "tests/service/test_service_graphiql.py": 1,  # every GraphiQL example valid
}
# Picked out of WHOLE's files where not every case is wanted.
ALSO = ("test_every_example_query_is_valid_against_the_schema",)


def _module_of(case: ET.Element) -> str:
    module = case.get("classname", "")
    return module.replace(".", "/") + ".py"


# The subprocess runs several suites whole: its own limit (600 s) is the one that applies.
@pytest.mark.timeout(600)
def test_a_toy_provider_defined_in_tests_passes_the_shared_suites(tmp_path: Path) -> None:
    assert "toy" not in {row.name for row in PROVIDERS}, "the toy leaks into the normal run"
    report = tmp_path / "toy.xml"
    whole = [Path(f).stem for f in WHOLE if not f.endswith("graphiql.py")]
    selection = " or ".join(["toy", *whole, *ALSO])
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-n",
        "2",
        f"--junitxml={report}",
        "-k",
        selection,
        *PARAMETRISED,
        *WHOLE,
    ]
    env = {**os.environ, MODULES_ENV: "tests.toy.provider"}
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_CURRENT_TEST", None)
    run = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    cases = list(ET.parse(report).getroot().iter("testcase"))
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    skipped = [c.get("name") for c in cases if c.find("skipped") is not None]
    assert failed == [] and skipped == []
    toy = Counter(_module_of(c) for c in cases if "toy" in (c.get("name") or ""))
    everything = Counter(_module_of(c) for c in cases)
    for path, least in PARAMETRISED.items():
        assert toy[path] >= least, (path, toy[path])
    for path, least in WHOLE.items():
        assert everything[path] >= least, (path, everything[path])
