"""`test_toy_plugged_in.py` runs only where the toy is registered (`test_toy_provider.py` runs it
so, in a subprocess); elsewhere its provider does not exist."""

from __future__ import annotations

import os

from resolvers.providers.registry import MODULES_ENV

collect_ignore = (
    [] if "tests.toy.provider" in os.environ.get(MODULES_ENV, "") else ["test_toy_plugged_in.py"]
)
