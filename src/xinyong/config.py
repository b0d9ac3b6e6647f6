"""One Settings class, read from the environment (prefix XINYONG_) and `.env`."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "dev-insecure-secret-key-change-me"})


class Settings(BaseSettings):
    """Platform settings. Times are stored in UTC and shown in `timezone`."""

    model_config = SettingsConfigDict(env_prefix="XINYONG_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///var/xinyong.db"
    secret_key: str = "dev-insecure-secret-key-change-me"
    timezone: str = "Asia/Shanghai"
    var_dir: Path = Path("var")
    catalog_dirs: str = ""
    base_url: str = "http://127.0.0.1:8000"
    audit_seal_interval: float = 2.0  # seconds between audit sealing rounds; 0 = no scheduler in the web process
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65536
    # files this large are read, validated and prepared in a second process (collection.pipeline); -1: never
    ingest_worker_min_bytes: int = 4 << 20
    # anonymous public-report downloads per client address per hour, per web worker (core.ratelimit); 0: no limit
    public_reports_per_hour: int = 30

    @model_validator(mode="after")
    def _secret_outside_development(self) -> Settings:
        """A placeholder secret signs forgeable sessions: refuse it in production."""
        if self.environment == "production" and (self.secret_key in PLACEHOLDER_SECRETS or len(self.secret_key) < 32):
            raise ValueError(
                "XINYONG_SECRET_KEY 仍为占位值或少于32个字符，生产环境拒绝启动。"
                "请设置一个随机密钥，例如：python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@cache
def get_settings() -> Settings:
    return Settings()
