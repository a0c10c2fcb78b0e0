"""The Relay arguments are added once, by `graph.schema.relay.RelayConnection`, to every connection
field: no field spells them out, and each has them last, in Relay's order."""

from __future__ import annotations

from graph.schema.build import build_schema
from graph.schema.relay import RelayConnection
from resolvers.providers.registry import PROVIDERS

RELAY = ["first", "after", "last", "before"]


def connection_fields() -> dict[str, object]:
    build_schema()  # a process builds several schemas of the same types (tests, `serve`)
    schema = build_schema()
    query_type = schema.get_type_by_name("Query")
    assert query_type is not None
    return {
        field.python_name: field
        for field in query_type.fields  # type: ignore[attr-defined]
        if "Connection" in repr(field.type)
    }


def test_every_connection_field_gets_the_relay_arguments_from_the_extension() -> None:
    fields = connection_fields()
    # `jobs` and one field per provider.
    assert "jobs" in fields and len(fields) == 1 + len(PROVIDERS)
    for name, field in fields.items():
        extensions = [type(e) for e in field.extensions]  # type: ignore[attr-defined]
        assert extensions.count(RelayConnection) == 1, name
        arguments = [a.python_name for a in field.arguments]  # type: ignore[attr-defined]
        assert arguments[-4:] == RELAY, name
        assert arguments.count("first") == 1, name


def test_no_connection_resolver_declares_a_relay_argument_itself() -> None:
    for name, field in connection_fields().items():
        resolver = field.base_resolver  # type: ignore[attr-defined]
        own = [argument.python_name for argument in resolver.arguments]
        assert not set(own) & set(RELAY), (name, own)
