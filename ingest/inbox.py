"""The inbox folder the gateway watches: ``$UCHET_HOME/inbox/askue/``.

Each file dropped there (``*.xml`` 80020 files, ``*.csv``/``*.tsv``/``*.xlsx`` register
exports read through the mapping their header fits, see ``docs/register-imports.md``; a file
still being written — modified in the last two seconds — waits for the next look) is imported
and moved to ``done/`` or ``failed/`` with its report beside it as ``<name>.report.json``.
A file goes to ``failed/`` when nothing in it could be imported, and also when importing it
raised anything at all (the report names the file, the line when known, and the cause): one
file never stops the others. Only a store outage (or a broken mapping file) leaves a file
for the next sweep.

The inbox takes only files it owns, and never follows a link. An entry is taken when it is a
regular file with one name (not a symbolic link, FIFO, socket, device or directory; not a hard
link to data elsewhere) owned by the gateway's user or by the inbox folder's owner (the user
that uploads). A symbolic link is removed (its target is never opened); anything else refused
is moved, unread, to ``failed/``; both get a report saying why. A file is first claimed into
``.work/`` (mode 0700, the gateway's alone) with a rename, checked again there, and imported
from there through the directory's descriptor, so a name swapped for a link after the check is
never read. Every move and report write goes through directory descriptors opened with
``O_NOFOLLOW``: a link planted in ``done/``, ``failed/`` or in place of them is replaced, never
written through. Files left in ``.work/`` (a crash, a store outage) are imported first next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from adapters.registers.dispatch import REGISTER_SUFFIXES
from core.errors import ConfigError, StoreError

log = logging.getLogger(__name__)
SETTLE_S = 2.0
SUFFIXES = frozenset({".xml"}) | REGISTER_SUFFIXES
WORK = ".work"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


class Report(Protocol):
    @property
    def file(self) -> str: ...
    @property
    def status(self) -> str: ...
    def as_dict(self) -> dict[str, Any]: ...
    def summary(self) -> str: ...


class FileSink(Protocol):
    """What the inbox hands files to (:class:`ingest.file_import.FileImporter`)."""

    async def import_file(self, path: Path) -> Any: ...


@dataclass(slots=True)
class InboxReport:
    """A file the inbox refused unread (``refused``) or whose import raised (``failed``)."""

    file: str
    status: str
    error: str
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"file": self.file, "status": self.status, "error": self.error}
        if self.line is not None:
            doc["line"] = self.line
        return doc

    def summary(self) -> str:
        return f"{self.file}: {self.status.upper()}: {self.error}"


def inbox_dirs(home: Path) -> tuple[Path, Path, Path]:
    """The inbox and its ``done/`` and ``failed/`` folders, created when missing."""
    inbox = home / "inbox" / "askue"
    inbox.mkdir(parents=True, exist_ok=True)
    with _Dirs(inbox):
        pass
    return inbox, inbox / "done", inbox / "failed"


class _Dirs:
    """Descriptors of the inbox and of its real (never linked) ``done``, ``failed``, ``.work``."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox
        self.root = os.open(inbox, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self.fds: list[int] = [self.root]
        try:
            self.owner = os.fstat(self.root).st_uid
            self.done = self._sub("done", 0o750)
            self.failed = self._sub("failed", 0o750)
            self.work = self._sub(WORK, 0o700)
        except BaseException:
            self.close()
            raise

    def _sub(self, name: str, mode: int) -> int:
        try:
            st = os.stat(name, dir_fd=self.root, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        if st is not None and not stat.S_ISDIR(st.st_mode):
            # a link (or a file) planted in place of the folder: drop the link, keep a file
            what = _what(st, name, self.root)
            if stat.S_ISLNK(st.st_mode):
                os.unlink(name, dir_fd=self.root)
            else:
                aside = f"{name}.not-a-folder.{time.strftime('%Y%m%dT%H%M%S')}"
                os.rename(name, aside, src_dir_fd=self.root, dst_dir_fd=self.root)
            log.error(
                "inbox: %s/%s was %s, not a folder: replaced by a folder", self.inbox, name, what
            )
            st = None
        if st is None:
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, mode, dir_fd=self.root)
        fd = os.open(name, _DIR_FLAGS, dir_fd=self.root)
        self.fds.append(fd)
        if name == WORK:
            os.fchmod(fd, 0o700)
        return fd

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()

    def __enter__(self) -> _Dirs:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _what(st: os.stat_result, name: str, dir_fd: int) -> str:
    if stat.S_ISLNK(st.st_mode):
        try:
            return f"a symbolic link (to {os.readlink(name, dir_fd=dir_fd)})"
        except OSError:
            return "a symbolic link"
    return _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")


def _refusal(st: os.stat_result, name: str, dir_fd: int, owners: set[int]) -> str | None:
    """Why the inbox does not take this entry, or None if it is the inbox's to import."""
    if not stat.S_ISREG(st.st_mode):
        return f"{_what(st, name, dir_fd)}, not a regular file"
    if st.st_nlink != 1:
        return (
            f"a hard link ({st.st_nlink} names share its data): the inbox takes only files"
            " whose one name is in the inbox"
        )
    if st.st_uid not in owners:
        return (
            f"owned by user {st.st_uid}; the inbox takes files of user(s)"
            f" {', '.join(map(str, sorted(owners)))} (the gateway's and the inbox folder's owner)"
        )
    return None


def _free_name(name: str, dir_fd: int) -> str:
    """``name``, or a timestamped variant when ``name`` (or its report) is taken in the folder."""
    stem, dot, suffix = name.rpartition(".")
    if not stem:
        stem, dot, suffix = name, "", ""
    candidate, n = name, 0
    while any(_exists(c, dir_fd) for c in (candidate, candidate + ".report.json")):
        n += 1
        stamp = time.strftime("%Y%m%dT%H%M%S") + (f"-{n}" if n > 1 else "")
        candidate = f"{stem}.{stamp}{dot}{suffix}"
    return candidate


def _exists(name: str, dir_fd: int) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _write_report(dirs: _Dirs, folder: int, name: str, doc: dict[str, Any]) -> None:
    """Writes ``<name>.report.json`` into ``folder``: written in ``.work``, renamed into place
    (a rename replaces a link planted under that name instead of writing through it)."""
    data = json.dumps(doc, ensure_ascii=False, indent=1).encode()
    tmp = f".report.{os.getpid()}.{time.monotonic_ns()}.tmp"
    fd = os.open(
        tmp,
        os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
        0o640,
        dir_fd=dirs.work,
    )
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.rename(tmp, name + ".report.json", src_dir_fd=dirs.work, dst_dir_fd=folder)


def _work_path(dirs: _Dirs, name: str) -> Path:
    """The claimed file's path through the ``.work`` descriptor (Linux: /proc/self/fd), so
    no rename of the folder's name between the check and the read changes what is read."""
    proc = Path(f"/proc/self/fd/{dirs.work}")
    return proc / name if proc.is_dir() else dirs.inbox / WORK / name


class Inbox:
    """Sweeps one inbox; remembers what it already logged, so a waiting file is logged once."""

    def __init__(self, importer: FileSink, home: Path, *, settle_s: float = SETTLE_S) -> None:
        self.importer = importer
        self.home = home
        self.settle_s = settle_s
        self.waiting: set[str] = set()  # names left in .work and already logged

    async def sweep(self) -> list[Any]:
        """Imports every settled file once (those left in ``.work`` first); their reports."""
        inbox = self.home / "inbox" / "askue"
        inbox.mkdir(parents=True, exist_ok=True)
        reports: list[Any] = []
        with _Dirs(inbox) as dirs:
            owners = {os.geteuid(), dirs.owner}
            for name in sorted(_names(dirs.work)):
                reports.extend(await self._claimed(dirs, name, owners))
            now = time.time()
            for name in sorted(_names(dirs.root)):
                try:
                    st = os.stat(name, dir_fd=dirs.root, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(st.st_mode) and now - st.st_mtime < self.settle_s:
                    continue  # still being written
                if _exists(name, dirs.work):
                    continue  # one of this name waits in .work (a store outage)
                refused = await self._refuse(dirs, dirs.root, name, st, owners)
                if refused is not None:
                    reports.append(refused)
                    continue
                os.rename(name, name, src_dir_fd=dirs.root, dst_dir_fd=dirs.work)
                reports.extend(await self._claimed(dirs, name, owners, expect=st))
        return reports

    async def _refuse(
        self, dirs: _Dirs, folder: int, name: str, st: os.stat_result, owners: set[int]
    ) -> InboxReport | None:
        why = _refusal(st, name, folder, owners)
        if why is None:
            return None
        if stat.S_ISLNK(st.st_mode):
            os.unlink(name, dir_fd=folder)  # the link only; its target is never touched
            why += "; the link was removed, its target not read"
            target = _free_name(name, dirs.failed)
        else:
            target = _free_name(name, dirs.failed)
            os.rename(name, target, src_dir_fd=folder, dst_dir_fd=dirs.failed)
            why += "; moved to failed/ unread"
        report = InboxReport(name, "refused", why)
        _write_report(dirs, dirs.failed, target, report.as_dict())
        log.warning("inbox: %s", report.summary())
        return report

    async def _claimed(
        self, dirs: _Dirs, name: str, owners: set[int], *, expect: os.stat_result | None = None
    ) -> list[Any]:
        """Imports a file claimed into ``.work`` and moves it to done/ or failed/."""
        try:
            st = os.stat(name, dir_fd=dirs.work, follow_symlinks=False)
        except FileNotFoundError:
            return []
        swapped = expect is not None and (st.st_dev, st.st_ino) != (expect.st_dev, expect.st_ino)
        refused = await self._refuse(dirs, dirs.work, name, st, owners)
        if refused is not None:
            return [refused]
        if swapped:
            log.warning("inbox: %s changed while it was claimed; importing what was claimed", name)
        report: Any
        try:
            report = await self.importer.import_file(_work_path(dirs, name))
        except (StoreError, ConfigError) as exc:
            if isinstance(exc, StoreError) and not exc.retryable:
                report = _crash(name, exc)
            else:
                if name not in self.waiting:
                    self.waiting.add(name)
                    log.warning(
                        "inbox: %s not imported this time, kept for the next: %s", name, exc
                    )
                return []
        except Exception as exc:  # any failure of one file is that file's: report, go on
            report = _crash(name, exc)
        self.waiting.discard(name)
        folder = dirs.failed if report.status == "failed" else dirs.done
        target = _free_name(name, folder)
        os.rename(name, target, src_dir_fd=dirs.work, dst_dir_fd=folder)
        _write_report(dirs, folder, target, report.as_dict())
        log.info("inbox: %s", report.summary())
        return [report]


def _crash(name: str, exc: BaseException) -> InboxReport:
    line = getattr(exc, "line", None)
    report = InboxReport(
        name,
        "failed",
        f"import failed: {type(exc).__name__}: {exc}",
        line if isinstance(line, int) else None,
    )
    log.error("inbox: %s: import failed, moved to failed/", name, exc_info=exc)
    return report


def _names(dir_fd: int) -> list[str]:
    """Entry names that look like inbox files (hidden names and other suffixes ignored)."""
    return [
        n
        for n in os.listdir(dir_fd)
        if not n.startswith(".") and Path(n).suffix.lower() in SUFFIXES
    ]


async def sweep(importer: FileSink, home: Path, *, settle_s: float = SETTLE_S) -> list[Any]:
    """Imports every settled file in the inbox once; returns their reports."""
    return await Inbox(importer, home, settle_s=settle_s).sweep()


async def watch_inbox(
    importer: FileSink, home: Path, *, interval_s: float, stop: asyncio.Event
) -> None:
    """Sweeps the inbox every ``interval_s`` until ``stop``; a failing sweep (the inbox folder
    unreadable) is logged when it starts failing and when it recovers, and retried."""
    inbox = Inbox(importer, home)
    failing = False
    while not stop.is_set():
        try:
            await inbox.sweep()
            if failing:
                log.warning("inbox: sweeping again")
            failing = False
        except Exception:
            if not failing:
                log.exception("inbox: the sweep failed; retrying every %g s", interval_s)
            failing = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
