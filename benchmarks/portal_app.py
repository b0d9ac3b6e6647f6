"""The portal as served, plus a bare endpoint in the same process: the benchmark's baseline."""

from __future__ import annotations

from fastapi import FastAPI

from xinyong.app import create_app


def create() -> FastAPI:
    app = create_app()

    @app.get("/bench/bare", include_in_schema=False)
    def bare() -> dict[str, bool]:
        return {"ok": True}

    return app
