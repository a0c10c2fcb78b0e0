"""One adapter module per upstream platform, all implementing `ProviderAdapter`."""
