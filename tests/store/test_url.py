"""Store URLs: ``memory://``, ``sqlite:///relative.db``, ``sqlite:////absolute.db``."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.store import (
    DEFAULT_STORE_URL,
    DocumentStore,
    MemoryStore,
    SqliteStore,
    StoreUrlError,
    Unavailable,
    open_store,
    sqlite_path,
)


async def _open_and_close(url: str) -> DocumentStore:
    """Open the store ``url`` names, check it works, close it, return it for inspection."""
    store = await open_store(url)
    try:
        cas = await store.insert("k", {"url": url})
        assert (await store.get("k")).cas == cas
    finally:
        await store.close()
    return store


@pytest.mark.asyncio
async def test_memory_url_opens_a_memory_store() -> None:
    assert isinstance(await _open_and_close("memory://"), MemoryStore)


@pytest.mark.asyncio
async def test_absolute_sqlite_url_opens_that_file(tmp_path: Path) -> None:
    path = tmp_path / "abs.db"
    url = f"sqlite:///{path}"  # path is absolute: four slashes
    assert url.startswith("sqlite:////")
    store = await _open_and_close(url)
    assert isinstance(store, SqliteStore)
    assert store.path == path
    assert path.is_file()


@pytest.mark.asyncio
async def test_relative_sqlite_url_opens_a_file_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = await _open_and_close("sqlite:///data.db")
    assert isinstance(store, SqliteStore)
    assert (tmp_path / "data.db").is_file()


@pytest.mark.asyncio
async def test_sqlite_url_in_a_missing_directory_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(Unavailable):
        await _open_and_close(f"sqlite:///{tmp_path}/missing/abc.db")


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///rel.db", Path("rel.db")),
        ("sqlite:///data/abc.db", Path("data/abc.db")),
        ("sqlite:////abs/x.db", Path("/abs/x.db")),
        ("sqlite:////var/lib/abc/abc.db", Path("/var/lib/abc/abc.db")),
        (DEFAULT_STORE_URL, Path(".abc/abc.db")),
    ],
)
def test_sqlite_path(url: str, path: Path) -> None:
    assert sqlite_path(url) == path


@pytest.mark.parametrize(
    "url",
    [
        "postgres://x",
        "memory://",
        "sqlite://host/x.db",  # a host: not how sqlite URLs name files
        "sqlite:///",  # no file
        "sqlite:////",
        "sqlite:///data/",  # a directory
        "sqlite://",
        "sqlite:",
        "rel.db",
        "",
    ],
)
def test_sqlite_path_rejects_bad_urls(url: str) -> None:
    with pytest.raises(StoreUrlError):
        sqlite_path(url)


@pytest.mark.parametrize(
    "url",
    ["postgres://x", "sqlite://host/x.db", "sqlite:///", "sqlite:///data/", "abc.db", ""],
)
@pytest.mark.asyncio
async def test_open_store_rejects_bad_urls(url: str) -> None:
    with pytest.raises(StoreUrlError):
        await open_store(url)


def test_store_url_error_is_a_value_error() -> None:
    assert issubclass(StoreUrlError, ValueError)
