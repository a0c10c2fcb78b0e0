"""The schema and its types: the `Job` interface and its fields (`types`), the Relay
connections (`relay`, `connections`), the federated `jobs` list (`federated`), the
subscriptions, the custom scalars and inputs, the federation entities, and the assembly of
it all with the providers' modules (`build`).

This package's `__init__` imports nothing: import the module you need
(`graph.schema.build.build_schema`)."""
