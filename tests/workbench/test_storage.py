"""The app's library/project storage: content addressing, bad input, corrupt records, two instances,
backup and restore.  Real SQLite files in a temp folder."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from app.workbench.storage import ProjectData, StorageError, Store, export_backup, restore_backup


def _detect(p: Path) -> str:
    """Kind detection for these tests (the app uses app.core.draft.drafting.detect_kind)."""
    return {".md": "markdown", ".pdf": "pdf", ".py": "playwright-python"}.get(p.suffix, "unknown")


def test_import_is_content_addressed_and_reports_bad_files(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.md").write_text("# Hello\n")
    (src / "same.md").write_text("# Hello\n")
    (src / "b.py").write_text("page.goto('x')\n")
    (src / "weird.xyz").write_text("?")
    (src / ".hidden.md").write_text("hidden")
    report = store.import_paths([src, tmp_path / "missing.md"], detect=_detect)
    assert sorted(f.name for f in report.imported) == ["a.md", "b.py"]
    assert [f.name for f in report.already] == ["a.md"]  # same.md has a.md's content
    skipped = dict(report.skipped)
    assert skipped[str(src / "weird.xyz")] == "unsupported file type"
    assert "cannot read" in skipped[str(tmp_path / "missing.md")]
    files = store.list_files()
    a = next(f for f in files if f.kind == "markdown")
    assert store.blob_path(a.sha256).read_text() == "# Hello\n"
    assert not any(p.name.startswith(".import-") for p in (store.root / "files").iterdir())


def test_rename_tag_delete_undo_and_purge(store: Store, tmp_path: Path) -> None:
    (tmp_path / "x.md").write_text("x")
    [f] = store.import_paths([tmp_path / "x.md"], detect=_detect).imported
    store.rename_file(f.id, "intro.md")
    store.set_tags(f.id, ["docs", " draft ", "docs"])
    got = store.get_file(f.id)
    assert got is not None and got.name == "intro.md" and got.tags == ["docs", "draft"]
    with pytest.raises(StorageError):
        store.rename_file(f.id, "a/b")
    store.delete_files([f.id])
    assert store.list_files() == []
    store.restore_files([f.id])
    assert [x.id for x in store.list_files()] == [f.id]
    store.delete_files([f.id])
    assert store.purge_deleted() == 1
    assert not store.blob_path(f.sha256).exists()


def test_corrupt_project_is_reported_and_skipped(store: Store) -> None:
    good = store.create_project("Good", ProjectData(prompt="hi"))
    store.create_project("Bad")
    with sqlite3.connect(store.root / "library.sqlite3") as db:
        db.execute("UPDATE projects SET data='{not json' WHERE name='Bad'")
    projects = store.list_projects()
    assert [p.name for p in projects] == ["Good"] and projects[0].data.prompt == "hi"
    assert any("'Bad' is corrupt" in p for p in store.problems)
    dup = store.duplicate_project(good)
    assert dup.name == "Good (copy)" and dup.data.prompt == "hi"
    store.delete_project(dup.id)
    assert [p.name for p in store.list_projects()] == ["Good"]


def test_two_instances_write_concurrently_without_corruption(data_dir: Path) -> None:
    a, b = Store(data_dir), Store(data_dir)
    errors: list[BaseException] = []

    def writer(s: Store, prefix: str) -> None:
        try:
            for i in range(100):
                s.add_records([(f"{prefix}{i:063x}", f"{prefix}{i}", "text", i)])
                if i % 10 == 0:
                    p = s.create_project(f"{prefix}-{i}")
                    p.data.prompt = "x" * i
                    s.save_project(p)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(a, "a")), threading.Thread(target=writer, args=(b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(a.list_files()) == 200 and len(b.list_projects()) == 20
    with sqlite3.connect(data_dir / "library.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    a.close()
    b.close()


def test_backup_and_restore_on_another_machine(store: Store, tmp_path: Path) -> None:
    (tmp_path / "doc.md").write_text("# Doc")
    store.import_paths([tmp_path / "doc.md"], detect=_detect)
    p = store.create_project("Demo", ProjectData(prompt="make a video"))
    (store.project_dir(p.id) / "site").mkdir()
    (store.project_dir(p.id) / "site" / "index.html").write_text("<h1>hi</h1>")
    archive = export_backup(store, tmp_path / "backup.zip")
    other = tmp_path / "other-machine"
    restore_backup(archive, other)
    s2 = Store(other)
    [f] = s2.list_files()
    assert s2.blob_path(f.sha256).read_text() == "# Doc"
    [p2] = s2.list_projects()
    assert p2.name == "Demo" and p2.data.prompt == "make a video"
    assert (s2.project_dir(p2.id) / "site" / "index.html").read_text() == "<h1>hi</h1>"
    s2.close()
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(StorageError, match="not a Reelwright backup"):
        restore_backup(tmp_path / "junk.zip", other)
