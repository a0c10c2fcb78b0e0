"""The [cache] section: backend "memory" (default) or "redis" with a redis_url."""

from __future__ import annotations

import pytest

from resolvers.config import ConfigError, parse_config


def test_the_cache_backend_is_memory_by_default() -> None:
    config = parse_config({}, environ={})
    assert config.cache.backend == "memory"
    assert config.cache.redis_url == ""


def test_a_redis_backend_is_read_with_its_url() -> None:
    config = parse_config(
        {"cache": {"backend": "redis", "redis_url": "redis://127.0.0.1:6379/0"}}, environ={}
    )
    assert config.cache.backend == "redis"
    assert config.cache.redis_url == "redis://127.0.0.1:6379/0"


def test_the_cache_section_can_be_set_by_env_vars() -> None:
    config = parse_config(
        {},
        environ={
            "JOBGRAPH_CACHE__BACKEND": "redis",
            "JOBGRAPH_CACHE__REDIS_URL": "redis://10.0.0.5:6380/1",
        },
    )
    assert config.cache.backend == "redis"
    assert config.cache.redis_url == "redis://10.0.0.5:6380/1"


def test_a_redis_backend_without_a_url_is_rejected_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"cache: .*redis_url"):
        parse_config({"cache": {"backend": "redis"}}, environ={})


def test_an_unknown_backend_is_rejected_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"cache\.backend"):
        parse_config({"cache": {"backend": "memcached"}}, environ={})


def test_a_redis_url_of_another_scheme_is_rejected() -> None:
    with pytest.raises(ConfigError, match="redis_url must start with"):
        parse_config({"cache": {"backend": "redis", "redis_url": "http://x"}}, environ={})
