"""Writing zip files for tests: ordinary ones, and the hostile shapes the engine must refuse."""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path


def write_zip(path: Path, members: dict[str, bytes], *, stored: bool = False) -> Path:
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def zip_bytes(members: dict[str, bytes]) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def write_overlapping_zip(path: Path, names: list[str], payload: bytes) -> Path:
    """Several directory entries sharing one local file (the non-recursive zip bomb's trick)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = compressor.compress(payload) + compressor.flush()
    crc = zlib.crc32(payload)
    first = names[0].encode()
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), len(payload), len(first), 0
    )
    body = local + first + data
    directory = b""
    for name in names:
        encoded = name.encode()
        directory += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), len(payload),
            len(encoded), 0, 0, 0, 0, 0, 0,
        ) + encoded  # fmt: skip
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(names), len(names), len(directory), len(body), 0
    )
    path.write_bytes(body + directory + end)
    return path
