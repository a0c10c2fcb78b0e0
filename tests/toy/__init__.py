"""A toy sixth provider, plugged in through the registry by `JOBGRAPH_PROVIDER_MODULES`."""
