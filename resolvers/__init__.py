"""The data layer: provider adapters, the shared HTTP client, paging, loaders and the merge."""
