"""Benchmarks of the gateway's cost over its upstreams: `python -m bench` (see bench/README.md)."""
