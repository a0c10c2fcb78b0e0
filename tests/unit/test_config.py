"""Config loading: TOML, env overrides, secrets by env name, and errors that name the key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from resolvers.config import ConfigError, load_config, parse_config

EI = {
    "name": "ei",
    "provider": "edge_impulse",
    "base_url": "http://127.0.0.1:1/v1",
    "organization_id": 1,
    "projects": ["42"],
    "api_key_env": "EI_KEY",
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "jobgraph.toml"
    path.write_text(text)
    return path


def test_toml_file_loads_with_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[server]\nport = 9001\n[[sources]]\nname = "mf"\nprovider = "metafold"\n'
        'base_url = "https://api.metafold3d.com/"\nprojects = ["p1"]\ntoken_env = "MF_TOKEN"\n',
    )
    config = load_config(path, environ={})
    assert config.server.port == 9001
    assert config.server.max_page_size == 100
    assert config.sources[0].base_url == "https://api.metafold3d.com"


def test_env_var_overrides_a_server_setting() -> None:
    config = parse_config({"sources": [EI]}, environ={"JOBGRAPH_SERVER__MAX_PAGE_SIZE": "25"})
    assert config.server.max_page_size == 25


@pytest.mark.skipif(
    os.environ.get("JOBGRAPH_TEST_FAST_PATH") == "0", reason="the suite runs with it off"
)
def test_the_fast_path_is_on_by_default() -> None:
    assert parse_config({"sources": [EI]}, environ={}).server.fast_path is True


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("true", True)])
def test_the_fast_path_switch_is_set_by_env_var(value: str, expected: bool) -> None:
    config = parse_config({"sources": [EI]}, environ={"JOBGRAPH_SERVER__FAST_PATH": value})
    assert config.server.fast_path is expected


def test_env_var_overrides_a_source_setting_by_name() -> None:
    config = parse_config({"sources": [EI]}, environ={"JOBGRAPH_SOURCES__EI__TIMEOUT_S": "2.5"})
    assert config.sources[0].timeout_s == 2.5


def test_credentials_are_read_from_the_named_env_var_and_sent_as_the_provider_header() -> None:
    config = parse_config({"sources": [EI]}, environ={})
    assert config.sources[0].credential_headers({"EI_KEY": "s3cret"}) == {"x-api-key": "s3cret"}


def test_missing_credential_env_var_is_a_config_error_naming_it() -> None:
    config = parse_config({"sources": [EI]}, environ={})
    with pytest.raises(ConfigError, match="EI_KEY"):
        config.sources[0].credential_headers({})


def test_bad_value_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"server\.max_page_size"):
        parse_config({"server": {"max_page_size": 0}}, environ={})


def test_unknown_key_is_rejected_naming_it() -> None:
    with pytest.raises(ConfigError, match="colour"):
        parse_config({"server": {"colour": "blue"}}, environ={})


def test_edge_impulse_source_needs_an_organization() -> None:
    source = {k: v for k, v in EI.items() if k != "organization_id"}
    with pytest.raises(ConfigError, match="organization_id"):
        parse_config({"sources": [source]}, environ={})


def test_a_credential_key_of_another_provider_is_rejected() -> None:
    with pytest.raises(ConfigError, match="requester_id_env"):
        parse_config({"sources": [{**EI, "requester_id_env": "X"}]}, environ={})


def test_source_names_must_be_unique_and_well_formed() -> None:
    with pytest.raises(ConfigError, match="twice"):
        parse_config({"sources": [EI, EI]}, environ={})
    with pytest.raises(ConfigError, match="a-z0-9"):
        parse_config({"sources": [{**EI, "name": "Bad Name"}]}, environ={})


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(write(tmp_path, "[server\n"), environ={})


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml", environ={})


def test_poll_interval_defaults_to_ten_seconds_and_can_be_set_by_env_var() -> None:
    assert parse_config({"sources": [EI]}, environ={}).sources[0].poll_interval_s == 10
    config = parse_config({"sources": [EI]}, environ={"JOBGRAPH_SOURCES__EI__POLL_INTERVAL_S": "2"})
    assert config.sources[0].poll_interval_s == 2


def test_poll_interval_below_one_second_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"sources\.0\.poll_interval_s"):
        parse_config({"sources": [{**EI, "poll_interval_s": 0.5}]}, environ={})
