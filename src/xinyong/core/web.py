"""Web plumbing that knows no domain: the request's unit of work, templates, flash messages."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from sqlalchemy.orm import Session

from xinyong.core import clock


def _session(request: Request) -> Iterator[Session]:
    """One unit of work per request: commit once after the handler, before the response is sent."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.expunge_all()  # loaded objects (request.state.user) stay readable for the error page
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(_session, scope="function")]


def package_dir() -> Path:
    return Path(str(resources.files("xinyong")))


@cache
def templates() -> Jinja2Templates:
    """Shared layout in xinyong/templates; each domain's pages in <domain>/templates, named `<domain>/page.html`."""
    root = package_dir()
    domain_loaders = {p.parent.name: FileSystemLoader(str(p)) for p in sorted(root.glob("*/templates")) if p.is_dir()}
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(root / "templates")), PrefixLoader(domain_loaders)]),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.filters["local"] = _local_time
    return Jinja2Templates(env=env)


def _local_time(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return clock.to_local(value).strftime(fmt)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Any:
    context.setdefault("user", getattr(request.state, "user", None))
    return templates().TemplateResponse(request, name, context, status_code=status_code)


def content_disposition(file_name: str) -> str:
    """An attachment header that carries a Chinese file name (RFC 6266 / RFC 5987)."""
    from urllib.parse import quote

    ascii_name = file_name.encode("ascii", "ignore").decode() or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"


def read_uploads(files: dict[str, Any]) -> list[Any]:
    """Form files (FastAPI `UploadFile`, possibly absent or empty) → `core.workflow.Upload`s, keyed by kind."""
    from xinyong.core.workflow import Upload

    found = []
    for kind, upload in files.items():
        if upload is None or not getattr(upload, "filename", None):
            continue
        content = upload.file.read()
        found.append(Upload(kind, upload.filename, content, upload.content_type or "application/octet-stream"))
    return found


def attachment_response(attachment: Any) -> Any:
    """A stored material as a download, under its original (Chinese) file name."""
    from fastapi.responses import Response

    return Response(
        attachment.content,
        media_type=attachment.content_type or "application/octet-stream",
        headers={"Content-Disposition": content_disposition(attachment.file_name), "X-Content-Type-Options": "nosniff"},
    )
