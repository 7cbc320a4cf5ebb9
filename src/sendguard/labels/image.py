"""Images: labels embedded as XMP packets, and markings on the picture read by OCR.

Writers put XMP near the start (JPEG APP1, PNG iTXt before the image data, TIFF, WebP) or at
the end (some PNG/WebP writers), so the first and last MiB are searched for packets rather than
walking every format's chunk structure. Labelling tools write MIP properties
(``MSIP_Label_*``), ``photoshop:`` / ``xmp:`` classification fields or Dublin Core
subjects into that XMP; ``find_xmp_labels`` reads them all.

A picture large enough to show a page (``ocr.MIN_SIDE``) is then read by OCR when the limits
allow it (``Limits.ocr``); otherwise ``Findings.ocr_pending`` says a scan with OCR might find
more. Only the file itself is OCR'd, not pictures inside archives or documents.
"""

from __future__ import annotations

from functools import cache

from sendguard.labels.context import MiB, ScanContext, Source, Unscannable
from sendguard.labels.xmp import find_xmp_labels, iter_xmp_packets

#: How much of the start and of the end of an image is searched for XMP.
XMP_WINDOW = 1 * MiB

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def image_format(head: bytes) -> str:
    """The image type from its first bytes (``image`` when it is not one we know)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        if head[8:12] == b"avif":
            return "avif"
        if head[8:12] in _HEIF_BRANDS:
            return "heic"
    if head.startswith(b"BM"):
        return "bmp"
    return "image"


def scan_image(source: Source, ctx: ScanContext) -> None:
    """Report labels carried in the image's XMP packets."""
    try:
        head, tail = source.edges(XMP_WINDOW)
    except OSError as exc:
        raise Unscannable(f"the image could not be read: {exc.strerror or exc}") from exc
    kind = image_format(head[:16])
    ctx.refine_format(kind)
    for window in (head, tail):
        for packet in iter_xmp_packets(window):
            ctx.add_all(find_xmp_labels(packet, "XMP"))
            ctx.check_time()
    if ctx.depth == 0:
        _ocr_image(source, kind, ctx)


@cache
def _register_heif() -> bool:
    """HEIC (a phone camera's default format) through pillow-heif, part of the ocr extra."""
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def _ocr_image(source: Source, kind: str, ctx: ScanContext) -> None:
    """Markings on the picture, by OCR; or `ocr_pending` when this scan does not OCR."""
    from sendguard.labels.ocr import EXTRA_MISSING, read_markings, wants_ocr

    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # Pillow comes with the package; a broken install still says so
        if ctx.limits.ocr and ctx.limits.ocr_required:
            raise Unscannable(EXTRA_MISSING) from None
        return
    if kind == "heic":
        _register_heif()
    try:
        with Image.open(source.path if source.path is not None else source.open()) as image:
            if not wants_ocr(image):
                return
            if not ctx.limits.ocr:
                ctx.findings.ocr_pending = True
                return
            ctx.add_all(read_markings(image, "image", ctx))
    except UnidentifiedImageError:
        if not ctx.limits.ocr:
            return  # what it is can wait for the scan that reads it
        reason = f"a {kind} picture cannot be decoded here, so it was not read by OCR"
        if kind in ("heic", "avif"):
            reason += " (no HEIF/AVIF decoder is installed: pillow-heif reads HEIC)"
        if ctx.limits.ocr_required or kind not in ("heic", "avif", "image"):
            raise Unscannable(reason) from None
        ctx.findings.notes.append(reason)
    except Image.DecompressionBombError as exc:
        raise Unscannable(f"the picture has too many pixels to read: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if not ctx.limits.ocr:
            return
        # Pillow reports damage as any of these: a picture we cannot read is never clean.
        raise Unscannable(f"the picture could not be decoded: {exc}") from None
