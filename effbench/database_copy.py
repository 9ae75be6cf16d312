"""The copy of the database a site ships: file names relative to the build folder instead of the loading
machine's absolute paths, load times no later than SOURCE_DATE_EPOCH, and bytes that depend only on what
it holds, so that two builds of the same inputs give the same file (reproducible builds)."""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

import duckdb

from effbench.sql import quote_literal

# DuckDB's main header (the file's first 4,096 bytes) starts with a checksum of the rest of it and holds
# a random 16-byte database identifier, which alone makes two copies of the same contents differ.
_HEADER_BYTES = 4096
_MAGIC = (8, b"DUCK")
_IDENTIFIER = slice(124, 140)
_CHECKSUM_FACTOR = 0xBF58476D1CE4E5B9  # DuckDB's Checksum(uint64_t)
_STORAGE_VERSION = "v1.4.0"  # as `store.STORAGE_VERSION`: clients from DuckDB 1.4 on can open the copy


def source_date_epoch() -> int | None:
    """Return SOURCE_DATE_EPOCH in seconds, or None when it is not set to a whole number."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(epoch) if epoch.isdigit() else None


def public_path(path: str, base: Path) -> str:
    """Return `path` as a site tells it: relative to `base` (the build folder) when it lies inside it,
    else its file name alone, so that no home folder or user name is published."""
    absolute = Path(os.path.abspath(path))
    base = Path(os.path.abspath(base))
    return absolute.relative_to(base).as_posix() if absolute.is_relative_to(base) else absolute.name


def write_public_copy(database: Path, target: Path, *, base: Path | None = None) -> None:
    """Write the copy of `database` a site ships to `target` (which must not exist): every table, view
    and comment, with `sources.path` made public (`public_path` against `base`, default the current
    folder) and `sources.loaded_at` no later than SOURCE_DATE_EPOCH.

    The copy is written afresh rather than copied and updated in place, since DuckDB leaves the old
    values in freed blocks of a file that is updated.
    """
    base = base or Path.cwd()
    # One thread: parallel inserts would lay out the same rows in another order from one copy to the next.
    con = duckdb.connect(config={"threads": 1, "autoload_known_extensions": False,
                                 "autoinstall_known_extensions": False})
    try:
        con.execute(f"ATTACH {quote_literal(str(database))} AS original (READ_ONLY)")
        con.execute(f"ATTACH {quote_literal(str(target))} AS public (STORAGE_VERSION '{_STORAGE_VERSION}')")
        paths = [(path, public_path(path, base)) for (path,) in
                 con.execute("SELECT DISTINCT path FROM original.sources").fetchall()]
        con.execute("BEGIN TRANSACTION")
        con.execute("COPY FROM DATABASE original TO public")
        con.executemany("UPDATE public.sources SET path = ? WHERE path = ?", [[new, old] for old, new in paths])
        epoch = source_date_epoch()
        if epoch is not None:
            con.execute("UPDATE public.sources SET loaded_at = to_timestamp(?) WHERE loaded_at > to_timestamp(?)",
                        [epoch, epoch])
        con.execute("COMMIT")
        con.execute("DETACH public")
    finally:
        con.close()
    _fix_identifier(target)


def _checksum(block: bytes) -> int:
    """Return DuckDB's checksum of `block` (a whole number of 8-byte words)."""
    result = 5381
    for (word,) in struct.iter_unpack("<Q", block):
        result ^= (word * _CHECKSUM_FACTOR) & 0xFFFFFFFFFFFFFFFF
    return result


def _fix_identifier(path: Path) -> None:
    """Replace the random database identifier in `path`'s header with a hash of the file's contents and
    update the header's checksum; leave the file as it is unless its header is the one this expects
    and the changed file still opens."""
    with open(path, "r+b") as handle:
        header = bytearray(handle.read(_HEADER_BYTES))
        offset, magic = _MAGIC
        if (len(header) < _HEADER_BYTES or header[offset:offset + len(magic)] != magic
                or struct.unpack_from("<Q", header)[0] != _checksum(bytes(header[8:]))):
            return
        contents = hashlib.sha256()
        for block in iter(lambda: handle.read(1 << 20), b""):
            contents.update(block)
        original = bytes(header)
        header[_IDENTIFIER] = contents.digest()[:16]
        struct.pack_into("<Q", header, 0, _checksum(bytes(header[8:])))
        handle.seek(0)
        handle.write(header)
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.Error:
        with open(path, "r+b") as handle:
            handle.write(original)
