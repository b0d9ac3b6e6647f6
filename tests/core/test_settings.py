from __future__ import annotations

import pytest
from pydantic import ValidationError

from xinyong.config import Settings


def test_placeholder_secret_is_refused_in_production():
    with pytest.raises(ValidationError, match="XINYONG_SECRET_KEY"):
        Settings(environment="production", secret_key="change-me")
    with pytest.raises(ValidationError):
        Settings(environment="production", secret_key="short")


def test_placeholder_secret_allowed_in_development_and_real_secret_in_production():
    assert Settings(environment="development").secret_key
    s = Settings(environment="production", secret_key="k" * 48)
    assert s.timezone == "Asia/Shanghai"


def test_environment_variables_use_the_xinyong_prefix(monkeypatch):
    monkeypatch.setenv("XINYONG_DATABASE_URL", "postgresql://x@h/db")
    monkeypatch.setenv("XINYONG_TIMEZONE", "Asia/Shanghai")
    assert Settings().database_url == "postgresql://x@h/db"
    assert Settings(database_url="sqlite:///var/xinyong.db").is_sqlite
