"""The inbox never follows a link and takes only files it owns: links dropped in the inbox, in
``failed/``/``done/`` or in their place never make it read or write outside the inbox; FIFOs,
hard links and other users' files are refused unread. Real files, real importers and store."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.store import ReadingStore
from api.runtime import migrate_url
from ingest.file_import import FileImporter
from ingest.inbox import sweep
from tests.askue.helpers import message, periods, point
from tests.intake_tools import history_intake

pytestmark = pytest.mark.postgres
OLD = 1_000_000_000
SECRET = b"root:x:0:0:secret-first-bytes\n"


@pytest.fixture
async def importer(db_url: str, tmp_path: Path) -> AsyncIterator[FileImporter]:
    await migrate_url(db_url)
    store = await ReadingStore.open(db_url)
    yield FileImporter(history_intake(store), home=tmp_path)
    await store.close()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    path = tmp_path / "inbox" / "askue"
    path.mkdir(parents=True)
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the inbox that nothing may read or write."""
    path = tmp_path / "outside" / "secret.xml"
    path.parent.mkdir()
    path.write_bytes(SECRET)
    return path


def _good() -> bytes:
    return message(point("P1", {"01": periods(["1"] * 48)}))


def _settled(*paths: Path) -> None:
    for p in paths:
        os.utime(p, (OLD, OLD), follow_symlinks=False)


def _report(folder: Path, name: str) -> dict[str, object]:
    text = (folder / f"{name}.report.json").read_text()
    assert SECRET.decode().strip() not in text  # nothing of the target leaks into a report
    return json.loads(text)  # type: ignore[no-any-return]


async def test_a_link_dropped_in_the_inbox_is_removed_unread(
    importer: FileImporter, inbox: Path, outside: Path
) -> None:
    (inbox / "link.xml").symlink_to(outside)
    (inbox / "dangling.csv").symlink_to(inbox / "nowhere.csv")
    (inbox / "good.xml").write_bytes(_good())
    _settled(inbox / "link.xml", inbox / "dangling.csv", inbox / "good.xml")
    reports = await sweep(importer, inbox.parent.parent)
    assert {r.file: r.status for r in reports} == {
        "dangling.csv": "refused",
        "link.xml": "refused",
        "good.xml": "imported",
    }
    assert outside.read_bytes() == SECRET
    assert not (inbox / "link.xml").is_symlink() and not (inbox / "link.xml").exists()
    report = _report(inbox / "failed", "link.xml")
    assert report["status"] == "refused"
    assert f"a symbolic link (to {outside})" in str(report["error"])
    assert "its target not read" in str(report["error"])
    assert sorted(os.listdir(inbox / "failed")) == [
        "dangling.csv.report.json",
        "link.xml.report.json",
    ]
    assert (inbox / "done" / "good.xml").is_file()


async def test_links_in_failed_are_never_written_through(
    importer: FileImporter, inbox: Path, outside: Path
) -> None:
    failed = inbox / "failed"
    failed.mkdir()
    (failed / "bad.xml").symlink_to(outside)
    (failed / "bad.xml.report.json").symlink_to(outside)
    (inbox / "bad.xml").write_bytes(b"this is not xml")
    _settled(inbox / "bad.xml")
    [report] = await sweep(importer, inbox.parent.parent)
    assert report.status == "failed"
    assert outside.read_bytes() == SECRET
    # the links are left as they were; the file and its report took a free name beside them
    assert os.readlink(failed / "bad.xml") == str(outside)
    moved = [n for n in os.listdir(failed) if n.endswith(".xml") and n != "bad.xml"]
    assert len(moved) == 1 and moved[0] != "bad.xml"
    assert (failed / moved[0]).read_bytes() == b"this is not xml"
    assert not (failed / f"{moved[0]}.report.json").is_symlink()
    assert _report(failed, moved[0])["status"] == "failed"


async def test_a_link_in_place_of_done_is_replaced_by_a_folder(
    importer: FileImporter, inbox: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (inbox / "done").symlink_to(elsewhere, target_is_directory=True)
    (inbox / ".work").symlink_to(elsewhere, target_is_directory=True)
    (inbox / "good.xml").write_bytes(_good())
    _settled(inbox / "good.xml")
    [report] = await sweep(importer, inbox.parent.parent)
    assert report.status == "imported"
    assert os.listdir(elsewhere) == []
    assert not (inbox / "done").is_symlink() and (inbox / "done" / "good.xml").is_file()
    assert not (inbox / ".work").is_symlink()
    assert oct((inbox / ".work").stat().st_mode & 0o777) == oct(0o700)


async def test_fifos_hard_links_and_other_users_files_are_refused_unread(
    importer: FileImporter, inbox: Path, outside: Path
) -> None:
    os.mkfifo(inbox / "pipe.csv")  # opening it would block the gateway
    os.link(outside, inbox / "hard.xml")
    (inbox / "folder.xml").mkdir()
    theirs = inbox / "theirs.xml"
    theirs.write_bytes(_good())
    if os.geteuid() == 0:
        os.chown(theirs, 65534, 65534)
    names = ("pipe.csv", "hard.xml", "folder.xml", "theirs.xml")
    _settled(*(inbox / n for n in names))
    reports = await sweep(importer, inbox.parent.parent)
    statuses = {r.file: r.status for r in reports}
    failed = inbox / "failed"
    assert statuses["pipe.csv"] == statuses["hard.xml"] == statuses["folder.xml"] == "refused"
    assert "a FIFO, not a regular file" in str(_report(failed, "pipe.csv")["error"])
    assert "a hard link (2 names" in str(_report(failed, "hard.xml")["error"])
    assert "a directory" in str(_report(failed, "folder.xml")["error"])
    assert (failed / "pipe.csv").exists() and (failed / "folder.xml").is_dir()
    assert outside.read_bytes() == SECRET and (failed / "hard.xml").read_bytes() == SECRET
    if os.geteuid() == 0:  # root owns the inbox: a file of user 65534 is not the inbox's
        assert statuses["theirs.xml"] == "refused"
        assert "owned by user 65534" in str(_report(failed, "theirs.xml")["error"])
    else:
        assert statuses["theirs.xml"] == "imported"


async def test_a_link_left_in_work_is_removed_unread(
    importer: FileImporter, inbox: Path, outside: Path
) -> None:
    (inbox / ".work").mkdir(mode=0o700)
    (inbox / ".work" / "left.xml").symlink_to(outside)
    [report] = await sweep(importer, inbox.parent.parent)
    assert (report.file, report.status) == ("left.xml", "refused")
    assert os.listdir(inbox / ".work") == [] and outside.read_bytes() == SECRET
