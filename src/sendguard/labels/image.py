"""Images: labels embedded as XMP packets (OCR of photographed markings comes later).

Writers put XMP near the start (JPEG APP1, PNG iTXt before the image data, TIFF, WebP) or at
the end (some PNG/WebP writers), so the first and last MiB are searched for packets rather than
walking every format's chunk structure. An image without XMP yields nothing: a photo is not
labelled until OCR says so.
"""

from __future__ import annotations

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
    ctx.refine_format(image_format(head[:16]))
    for window in (head, tail):
        for packet in iter_xmp_packets(window):
            ctx.add_all(find_xmp_labels(packet, "XMP"))
            ctx.check_time()
