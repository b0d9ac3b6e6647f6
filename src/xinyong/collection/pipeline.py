"""Reading, validating and preparing a file's rows, in a second process for large files.

That work is a pure function of the file, the catalogue, the submitting department and the day, and about a
third of an ingest's time in one process; linking and storing need the batch's transaction. On 2 cores the
reading process stages chunk N+1 while this one stores chunk N (and the database server works in the gaps). Small
files stay in one process: starting a second one costs about a second.

The two processes share only a pipe. The reader blocks when the pipe is full, so at most a chunk or two is in
flight and memory stays flat. If this process is killed, the reader's next write fails (nobody else holds the
pipe's other end) and it exits; if the reader dies, this side gets EOF and the batch's transaction rolls back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import date
from itertools import islice
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from xinyong.catalog.service import Catalog, get_catalog
from xinyong.collection.loader import RowPreparer, Staged
from xinyong.collection.readers import ReadError, RowSource, open_rows
from xinyong.collection.validate import RowValidator
from xinyong.config import get_settings
from xinyong.core.errors import DomainError


def header_matcher(catalog: Catalog, info_class: str) -> Callable[[list[str]], bool]:
    """A header row names at least two of the class's columns, and at least half of its cells are known."""

    def is_header(cells: list[str]) -> bool:
        known = sum(1 for c in cells if catalog.field_for_header(info_class, c))
        return known >= 2 and known * 2 >= len(cells)

    return is_header


def chunks(rows: Iterable[tuple[int, list[Any]]], size: int) -> Iterator[list[tuple[int, list[Any]]]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _staged(source: RowSource, validator: RowValidator, preparer: RowPreparer, size: int) -> Iterator[list[Staged]]:
    validate = validator.validate
    for chunk in chunks(source.rows, size):
        yield preparer.stage([validate(n, cells) for n, cells in chunk])


@contextmanager
def staged_chunks(
    path: Path,
    source: RowSource,
    validator: RowValidator,
    *,
    department_code: str,
    size: int,
    worker: bool,
    json_text: bool,
) -> Iterator[Iterator[list[Staged]]]:
    """Chunks of staged rows of `source` (already opened: its header is the batch's). With `worker`, a second
    process reopens the file and does the staging; `validator` must then come from the default catalogue."""
    if not worker:
        preparer = RowPreparer(validator.info_class, department_code, json_text=json_text)
        yield _staged(source, validator, preparer, size)
        return
    source.close()  # the reader reopens the file; this side keeps only what the header told
    job = {
        "path": str(path),
        "info_class": validator.info_class.code,
        "header": validator.header,
        "today": validator.today.isoformat(),
        "department": validator.department,
        "department_code": department_code,
        "size": size,
        "json_text": json_text,
    }
    read_end, write_end = os.pipe()
    # a fresh interpreter running this module (not multiprocessing's spawn, which re-imports the caller's
    # __main__): it inherits the environment, hence the same catalogue, and nothing else but the pipe
    process = subprocess.Popen(
        [sys.executable, "-m", __name__, json.dumps(job, ensure_ascii=False), str(write_end)],
        pass_fds=(write_end,),
        stdin=subprocess.DEVNULL,
    )
    os.close(write_end)  # the reader holds the only writing end now: its death is our EOF
    receiver = Connection(read_end, writable=False)
    try:
        yield _received(receiver)
    finally:
        receiver.close()  # a reader still writing gets a broken pipe and stops
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _received(receiver: Connection) -> Iterator[list[Staged]]:
    while True:
        try:
            message = receiver.recv()
        except EOFError:
            raise RuntimeError("读取文件的子进程意外退出，本批次未保存任何数据") from None
        kind = message[0]
        if kind == "rows":
            yield message[1]
        elif kind == "done":
            return
        else:  # ("error", ReadError | DomainError | None, message, code, details)
            _, kind, text, code, details = message
            if kind:
                raise (ReadError if kind == "ReadError" else DomainError)(text, code=code, details=details)
            raise RuntimeError(f"读取文件的子进程出错：{text}")


def _read(sender: Connection, job: dict[str, Any]) -> None:
    """The reading process: open, validate, prepare and send chunk after chunk; then "done", or the error."""
    try:
        catalog = get_catalog()
        info_class, header = job["info_class"], job["header"]
        source = open_rows(Path(job["path"]), header_matcher(catalog, info_class))
        try:
            if source.header != header:
                raise RuntimeError("文件在读取期间被改动（表头不一致）")
            department = tuple(job["department"]) if job["department"] else None
            today = date.fromisoformat(job["today"])
            validator = RowValidator(catalog, catalog.get(info_class), header, today, department)  # type: ignore[arg-type]
            preparer = RowPreparer(validator.info_class, job["department_code"], names=True, json_text=job["json_text"])
            for staged in _staged(source, validator, preparer, job["size"]):
                sender.send(("rows", staged))
        finally:
            source.close()
        sender.send(("done",))
    except (BrokenPipeError, ConnectionResetError):
        return  # the ingesting process is gone (killed, or it stopped on an error): nothing to report to
    except DomainError as exc:
        kind = "ReadError" if isinstance(exc, ReadError) else "DomainError"
        _report(sender, (kind, exc.message, exc.code, exc.details))
    except Exception as exc:  # reported, so the batch fails with the reason instead of a bare EOF
        _report(sender, (None, f"{type(exc).__name__}: {exc}", None, None))
    finally:
        sender.close()


def _report(sender: Connection, error: tuple[str | None, str, str | None, Any]) -> None:
    with suppress(BrokenPipeError, ConnectionResetError):
        sender.send(("error", *error))


def uses_worker(size_bytes: int, catalog: Catalog) -> bool:
    """A second process for files of at least `ingest_worker_min_bytes` (setting; negative: never), read with the
    default catalogue (the child cannot be handed another one)."""
    threshold = get_settings().ingest_worker_min_bytes
    return 0 <= threshold <= size_bytes and catalog is get_catalog()


if __name__ == "__main__":
    _read(Connection(int(sys.argv[2]), readable=False), json.loads(sys.argv[1]))
