"""A sixth provider defined entirely inside tests/: its registry row (its test oracle is the
`oracle` module beside this one).

`JOBGRAPH_PROVIDER_MODULES=tests.toy.provider` plugs it in; `test_toy_provider.py` runs the
shared suites that way in a subprocess."""

from __future__ import annotations

from resolvers.providers.registry import ProviderRow

# Loaded while the registry itself is being imported: this module imports no gateway code.
NAME = "toy"

ROW = ProviderRow(
    name=NAME,
    key="TOY",
    adapter="tests.toy.adapter:ToyAdapter",
    graph="tests.toy.graph",
    simulator="tests.toy.simulator:ToySimulator",
    # A credential key and a config key of its own, which no built-in provider has: the
    # config model takes both from this row.
    credentials={"toy_key_env": "X-Toy-Key"},
    optional_keys=("team_id",),
    key_types={"team_id": int},
)
