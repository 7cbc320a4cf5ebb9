"""Reading zip containers (Office, ODF, archives) with bomb limits.

zipfile trusts the central directory; these checks refuse what a hostile one can do:
too many entries, entries overlapping each other (the non-recursive zip bomb), a compression
ratio no real document has, and more inflated bytes than the scan is allowed.
"""

from __future__ import annotations

import itertools
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sendguard.labels.context import BudgetExceeded, ScanContext, Source, Unscannable
from sendguard.labels.sniff import HEAD_BYTES, Format, sniff

_LOCAL_HEADER = 30
#: Small members are harmless whatever their ratio; the ratio check starts above this size.
_RATIO_FLOOR = 1024 * 1024
_CHUNK = 64 * 1024
#: Members whose head tells all we read of them (media carries no label beyond its head).
_HEAD_IS_ENOUGH = (Format.BINARY, Format.IMAGE)


@contextmanager
def open_zip(source: Source, ctx: ScanContext) -> Iterator[zipfile.ZipFile]:
    """The archive, after its directory passed the bomb checks; Unscannable otherwise."""
    handle = source.open()
    try:
        try:
            archive = zipfile.ZipFile(handle)
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            NotImplementedError,
            OSError,
            ValueError,
            EOFError,
        ) as exc:
            raise Unscannable(f"damaged or truncated zip container ({exc})") from exc
        with archive:
            check_directory(archive, source.size, ctx)
            yield archive
    finally:
        handle.close()


def check_directory(archive: zipfile.ZipFile, archive_size: int, ctx: ScanContext) -> None:
    limits = ctx.limits
    entries = archive.infolist()
    if len(entries) > limits.max_archive_entries:
        raise Unscannable(
            f"zip bomb suspected: {len(entries)} entries (limit {limits.max_archive_entries})"
        )
    declared = 0
    spans: list[tuple[int, int, str]] = []
    for info in entries:
        declared += info.file_size
        if info.file_size > _RATIO_FLOOR and info.file_size > limits.max_compression_ratio * max(
            info.compress_size, 1
        ):
            raise Unscannable(
                f"zip bomb suspected: {info.filename!r} expands {info.compress_size} bytes "
                f"to {info.file_size} (more than {limits.max_compression_ratio:g}×)"
            )
        start = info.header_offset
        # The name as stored: UTF-8 when flagged (bit 11), else the legacy code page.
        encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
        end = start + _LOCAL_HEADER + len(info.orig_filename.encode(encoding, "replace"))
        end += info.compress_size
        spans.append((start, end, info.filename))
    if declared > limits.max_total_uncompressed and declared > limits.max_compression_ratio * max(
        archive_size, 1
    ):
        raise Unscannable(
            f"zip bomb suspected: {declared} bytes declared in a {archive_size}-byte archive"
        )
    spans.sort()
    for (start, end, name), (next_start, _, next_name) in itertools.pairwise(spans):
        if next_start < end and next_start >= start:
            raise Unscannable(
                f"zip bomb suspected: entries {name!r} and {next_name!r} overlap in the archive"
            )


def stream_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, ctx: ScanContext, cap: int
) -> Iterator[bytes]:
    """A member inflated chunk by chunk, so a lying directory cannot make us over-read;
    Unscannable past `cap` bytes or when damaged."""
    if info.flag_bits & 0x1:
        raise Unscannable(f"{info.filename!r} is encrypted inside the zip")
    total = 0
    try:
        with archive.open(info) as member:
            while True:
                chunk = member.read(_CHUNK)
                if not chunk:
                    return
                total += len(chunk)
                if total > cap:
                    raise Unscannable(f"{info.filename!r} inflates past its {cap}-byte limit")
                yield chunk
                ctx.check_time()
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
    ) as exc:
        raise Unscannable(f"cannot read {info.filename!r} from the zip ({exc})") from exc


def read_member(
    archive: zipfile.ZipFile,
    name: str | zipfile.ZipInfo,
    ctx: ScanContext,
    limit: int,
    *,
    truncate: bool = False,
) -> bytes:
    """A member's bytes. Over `limit`: Unscannable, or with `truncate` the first `limit`
    bytes (for parts where only the start matters)."""
    info = name if isinstance(name, zipfile.ZipInfo) else archive.getinfo(name)
    if not truncate:
        if info.file_size > limit:
            raise Unscannable(f"{info.filename!r} is {info.file_size} bytes (limit {limit})")
        return b"".join(stream_member(archive, info, ctx, limit))
    data = bytearray()
    for chunk in stream_member(archive, info, ctx, sys.maxsize):
        data += chunk
        if len(data) >= limit:
            break
    return bytes(data[:limit])


def scan_members(
    archive: zipfile.ZipFile, ctx: ScanContext, *, skip: Callable[[str], bool] | None = None
) -> None:
    """Scan every member like a file of its own, through the dispatcher.

    A member that cannot be read is recorded with where it is, and the others are still
    scanned, so one broken member cannot hide a labelled one.
    """
    if ctx.scan_nested is None:
        raise RuntimeError("scan_members needs the dispatcher's scan_nested")
    limits = ctx.limits
    for info in archive.infolist():
        ctx.check_time()
        if info.is_dir() or (skip is not None and skip(info.filename)):
            continue
        child = ctx.child(info.filename)
        try:
            if info.file_size > limits.max_member_size:
                data = read_member(archive, info, ctx, HEAD_BYTES, truncate=True)
                if sniff(Source(info.filename, data=data)).format not in _HEAD_IS_ENOUGH:
                    raise Unscannable(
                        f"{info.file_size} bytes is over the {limits.max_member_size}-byte"
                        " limit for an archive member"
                    )
            else:
                data = read_member(archive, info, ctx, limits.max_member_size)
        except BudgetExceeded:
            raise
        except Unscannable as exc:
            ctx.findings.mark_unscannable(f"{child.prefix}: {exc.reason}")
            continue
        ctx.scan_nested(Source(info.filename, data=data), child)
