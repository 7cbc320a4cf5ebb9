"""Images: only labels embedded as XMP are reported (no OCR yet); ordinary images yield nothing."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from sendguard.labels.context import MiB, ScanContext, Source
from sendguard.labels.image import scan_image
from sendguard.labels.model import Findings, Scheme

GUID = "2096f6a2-d2f7-48be-b329-b73aaa526e5d"
SITE = "72f988bf-86f1-41af-91ab-2d7cd011db47"
KEY = f"MSIP_Label_{GUID}"
XMP = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
    ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:pdfx="http://ns.adobe.com/pdfx/1.3/">'
    f"<pdfx:{KEY}_Enabled>true</pdfx:{KEY}_Enabled><pdfx:{KEY}_SiteId>{SITE}</pdfx:{KEY}_SiteId>"
    f"<pdfx:{KEY}_Name>Confidential</pdfx:{KEY}_Name>"
    '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


def scan(data: bytes, name: str = "photo") -> Findings:
    ctx = ScanContext.start(Findings(path=name))
    scan_image(Source(name, data=data), ctx)
    return ctx.findings


def picture() -> Image.Image:
    return Image.new("RGB", (32, 24), (200, 30, 30))


def encode(image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    picture().save(buffer, image_format, **options)
    return buffer.getvalue()


def png_with_itxt() -> bytes:
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP)
    return encode("PNG", pnginfo=info)


@pytest.mark.parametrize(
    ("data", "expected_format"),
    [
        pytest.param(png_with_itxt(), "png", id="png-itxt"),
        pytest.param(encode("JPEG", xmp=XMP.encode()), "jpeg", id="jpeg-app1"),
        pytest.param(encode("WEBP", xmp=XMP.encode()), "webp", id="webp-chunk"),
    ],
)
def test_mip_label_in_image_xmp(data: bytes, expected_format: str) -> None:
    findings = scan(data)
    assert findings.format == expected_format
    [label] = findings.labels
    assert (label.scheme, label.guid, label.site_id, label.name) == (
        Scheme.MIP,
        GUID,
        SITE,
        "Confidential",
    )
    assert label.where == (f"XMP pdfx:{KEY}_Enabled",)


@pytest.mark.parametrize(
    ("image_format", "expected"),
    [("PNG", "png"), ("JPEG", "jpeg"), ("GIF", "gif"), ("TIFF", "tiff"), ("BMP", "bmp")],
)
def test_ordinary_image_yields_nothing(image_format: str, expected: str) -> None:
    findings = scan(encode(image_format))
    assert findings.labels == []
    assert findings.format == expected
    assert findings.unscannable_reason is None


def test_heic_brand_is_named() -> None:
    box = struct.pack(">I4s4sI4s", 24, b"ftyp", b"heic", 0, b"mif1") + b"\x00" * 64
    assert scan(box).format == "heic"


def test_xmp_near_the_end_of_a_large_image_is_found(tmp_path: Path) -> None:
    # A PNG whose XMP chunk is written after 3 MiB of image data (outside the first MiB).
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    filler = chunk(b"zzZz", b"\x00" * (3 * MiB))  # an ancillary chunk readers skip
    itxt = chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + XMP.encode())
    data = (
        b"\x89PNG\r\n\x1a\n" + header + filler + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + itxt
    )
    data += chunk(b"IEND", b"")
    path = tmp_path / "large.png"
    path.write_bytes(data)
    ctx = ScanContext.start(Findings(path=str(path)))
    scan_image(Source(path.name, path=str(path)), ctx)
    assert [label.guid for label in ctx.findings.labels] == [GUID]


def test_image_xmp_without_label_yields_nothing() -> None:
    plain = XMP.replace(f"pdfx:{KEY}_", "pdfx:Note_")
    assert scan(encode("JPEG", xmp=plain.encode())).labels == []
