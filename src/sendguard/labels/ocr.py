"""Photos and scans: visible markings read by local OCR.

The OCR engine is RapidOCR (Apache-2.0) running PaddleOCR's PP-OCR models on ONNX Runtime.
The models (text detection and recognition, English and Chinese in one model) ship inside
the ``rapidocr`` wheel: nothing is downloaded, ever. It is the optional ``ocr`` extra
(``pip install 'sendguard[ocr]'``); without it, such files carry a note saying they were not
read, or are unscannable when the policy requires OCR (``[ocr] required``).

Markings are banners, so this reads where banners live. Text detection runs once, on a copy
of the picture at most `DETECT_SIDE` pixels long; recognition, the costly part, then reads
the boxes found in order, and stops at the first place that shows a marking:

1. the top and bottom bands of the picture (a scan, a screenshot, a photo filling the frame
   with the page);
2. the first and last rows of the text found, wherever the page lies in the photo (a page on
   a desk), and text much larger than the rest (a stamp, a title banner).

At most `BAND_BOXES` boxes are read in each place. Detecting the bands first and the whole
picture only when they show nothing was measured and dropped: most photos show no marking,
and for them it costs a band detection on top of the whole one (bench/ocr.py). Recognition
crops come from a copy about `READ_SIDE` pixels long (JPEG is decoded at a reduced scale,
much of the saving on a 12-megapixel photo). The text goes through the same
`find_markings` as every text reader, with the edge-line rules (an OCR'd chat screenshot
saying "Internal" is not a banner). The engine is loaded once per process and reused.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sendguard.labels.context import ScanContext, Unscannable
from sendguard.labels.markings import Zone, find_markings
from sendguard.labels.model import Finding

if TYPE_CHECKING:
    from PIL import Image

#: Pictures smaller than this on their short side carry no readable page: icons, emoji,
#: stickers, avatars. They are not OCR'd (and the engine does not hold them for it).
MIN_SIDE = 240
#: Text detection runs on a copy this many pixels long at most.
DETECT_SIDE = 1024
#: Recognition crops come from a copy at least this long (JPEG decoding picks the scale).
READ_SIDE = 1600
#: Share of the picture's height searched first, at the top and at the bottom.
BAND = 0.22
#: Rows of text read at each end of the text found on the whole picture.
EDGE_ROWS = 2
#: Text this many times taller than the median line is read wherever it is (stamps).
LARGE_TEXT = 1.8
#: At most this many boxes are recognised in each place (a dense page has hundreds).
BAND_BOXES = 6
#: Boxes less tall than this (pixels of the reading copy) are specks, not text.
MIN_TEXT_HEIGHT = 10
#: Recognised text below this confidence is dropped (noise read as letters).
MIN_SCORE = 0.5

EXTRA_MISSING = (
    "photos and scans are not read: the OCR extra is not installed"
    " (pip install 'sendguard[ocr]'; the installers include it)"
)

_lock = threading.Lock()
_engine: Any = None
_load_error: str | None = None

# OCR misreads the ★ of a Chinese classification mark (机密★1年) as a look-alike character.
_CN_STAR = re.compile(
    r"(绝密|机密|秘密)\s*[本*＊☆✩✦✱⭐大女太犬木]\s*(?=[0-9０-９一二三四五六七八九十]|长期|启用)"
)


def _threads() -> int:
    # Two threads: most of the gain on a laptop, and a core is left for the desktop.
    return max(1, min(2, os.cpu_count() or 1))


def _load() -> Any:
    """The RapidOCR engine, loaded once per process (thread-safe); None when unavailable."""
    global _engine, _load_error
    with _lock:
        if _engine is None and _load_error is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:
                # The extra is missing, or installed with a piece missing (a broken bundle).
                _load_error = (
                    EXTRA_MISSING
                    if exc.name == "rapidocr"
                    else f"the OCR engine could not be loaded: {exc}"
                )
                return None
            try:
                _engine = RapidOCR(
                    params={
                        "Global.log_level": "critical",
                        "Global.use_cls": False,
                        "Global.max_side_len": 4096,
                        "Det.limit_type": "max",
                        "Det.limit_side_len": DETECT_SIDE,
                        "EngineConfig.onnxruntime.intra_op_num_threads": _threads(),
                        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                    }
                )
            except Exception as exc:  # a broken install: say so, never crash the scan
                _load_error = f"the OCR engine could not be loaded: {type(exc).__name__}: {exc}"
        return _engine


def ocr_problem() -> str | None:
    """Why OCR cannot run here (the extra is missing, the model does not load), or None."""
    _load()
    return _load_error


def ocr_installed() -> bool:
    """Whether the OCR extra is importable (cheap: does not load the model)."""
    import importlib.util

    return importlib.util.find_spec("rapidocr") is not None


@dataclass(frozen=True)
class _Box:
    """A text box in the coordinates of the reading copy."""

    points: tuple[tuple[float, float], ...]

    @property
    def top(self) -> float:
        return min(y for _, y in self.points)

    @property
    def bottom(self) -> float:
        return max(y for _, y in self.points)

    @property
    def left(self) -> float:
        return min(x for x, _ in self.points)

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2

    def key(self) -> tuple[int, int]:
        """Boxes found twice (in a band, then on the whole picture) have about one key."""
        return (round(self.middle / 8), round(self.left / 16))


@dataclass(frozen=True)
class _Line:
    box: _Box
    text: str


def normalise_ocr_text(text: str) -> str:
    """Undo OCR's usual misreadings of marking characters (机密本1年 → 机密★1年)."""
    return _CN_STAR.sub(r"\1★", text)


def wants_ocr(image: Image.Image) -> bool:
    """Whether a picture is large enough to show a readable page."""
    width, height = image.size
    return min(width, height) >= MIN_SIDE


def read_markings(
    image: Image.Image, place: str, ctx: ScanContext, *, decoded: bool = False
) -> list[Finding]:
    """Markings OCR reads on `image`; `place` names it in `where` (``image``, ``page 1``).

    Raises Unscannable when OCR cannot run and the limits require it; otherwise records a
    note and returns nothing. `decoded`: the image is already in memory (a rendered page),
    so no reduced-scale decoding is tried. The time it took, the model's loading included,
    is added to ``Findings.ocr_ms``.
    """
    started = time.perf_counter()
    engine = _load()
    if engine is None:
        reason = _load_error or EXTRA_MISSING
        if ctx.limits.ocr_required:
            raise Unscannable(reason)
        if reason not in ctx.findings.notes:
            ctx.findings.notes.append(reason)
        return []
    try:
        reading = _reading_copy(image, decoded)
        ctx.check_time()
        with _lock:
            return _read(engine, reading, place, ctx)
    finally:
        # Every picture read (a PDF's first and last pages are two) adds to the file's time.
        spent = (time.perf_counter() - started) * 1000
        ctx.findings.ocr_ms = (ctx.findings.ocr_ms or 0.0) + spent


def _reading_copy(image: Image.Image, decoded: bool) -> Any:
    """The picture upright, in RGB, about `READ_SIDE` long, as a BGR array (OpenCV's order)."""
    import numpy as np
    from PIL import Image as PILImage
    from PIL import ImageOps

    width, height = image.size
    scale = READ_SIDE / max(width, height)
    if not decoded and scale < 1 and image.format == "JPEG":
        # Decode at 1/2, 1/4 or 1/8 scale directly: most of the time on a 12 MP photo.
        image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
    upright = ImageOps.exif_transpose(image)
    upright = upright.convert("RGB")
    width, height = upright.size
    if max(width, height) > 2 * READ_SIDE:
        factor = 2 * READ_SIDE / max(width, height)
        upright = upright.resize(
            (max(1, int(width * factor)), max(1, int(height * factor))),
            PILImage.Resampling.BILINEAR,
        )
    array = np.asarray(upright)
    return np.ascontiguousarray(array[:, :, ::-1])


def _read(engine: Any, reading: Any, place: str, ctx: ScanContext) -> list[Finding]:
    import cv2

    height, width = reading.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(width, height))
    detect_copy = (
        cv2.resize(
            reading,
            (max(1, int(width * scale)), max(1, int(height * scale))),
            interpolation=cv2.INTER_AREA,
        )
        if scale < 1
        else reading
    )
    boxes = [box for box in _detect(engine, detect_copy, scale) if _plausible(box)]
    if not boxes:
        return []
    band = height * BAND
    rows = _rows(boxes)
    heights = sorted(box.height for box in boxes)
    median = heights[len(heights) // 2]
    stages: list[list[tuple[str, list[_Box]]]] = [
        [
            ("top", _largest([b for b in boxes if b.bottom <= band], BAND_BOXES)),
            ("bottom", _largest([b for b in boxes if b.top >= height - band], BAND_BOXES)),
        ],
        [
            ("first lines", [box for row in rows[:EDGE_ROWS] for box in row][:BAND_BOXES]),
            ("last lines", [box for row in rows[-EDGE_ROWS:] for box in row][-BAND_BOXES:]),
            (
                "large text",
                _largest([b for b in boxes if b.height >= LARGE_TEXT * median], BAND_BOXES // 2),
            ),
        ],
    ]
    seen: dict[_Box, _Line | None] = {}
    findings: list[Finding] = []
    for stage in stages:
        for name, chosen in stage:
            ctx.check_time()
            fresh = [box for box in chosen if box not in seen]
            for box, line in zip(fresh, _recognise(engine, reading, fresh, ctx), strict=True):
                seen[box] = line
            lines = [line for box in chosen if (line := seen.get(box)) is not None]
            findings += find_markings(_rows_text(lines), f"{place}, {name} (OCR)", Zone.EDGE_LINE)
        if findings:
            break  # the cheaper places showed a marking: no need to read further
    return _unique(findings)


def _plausible(box: _Box) -> bool:
    """Text boxes are at least a few pixels tall and not much narrower than tall (noise,
    texture and edges make specks and slivers that recognition would read as junk)."""
    width = max(x for x, _ in box.points) - box.left
    return box.height >= MIN_TEXT_HEIGHT and width >= 0.6 * box.height


def _detect(engine: Any, picture: Any, scale: float) -> list[_Box]:
    """Text boxes in `picture` (the detection copy), in the coordinates of the reading copy."""
    if picture.shape[0] < 8 or picture.shape[1] < 8:
        return []
    result = engine(picture, use_det=True, use_cls=False, use_rec=False)
    if result.boxes is None:
        return []
    return [
        _Box(tuple((float(x) / scale, float(y) / scale) for x, y in quad)) for quad in result.boxes
    ]


def _largest(boxes: Sequence[_Box], count: int) -> list[_Box]:
    return sorted(boxes, key=lambda box: -box.height)[:count]


def _recognise(
    engine: Any, reading: Any, boxes: Sequence[_Box], ctx: ScanContext
) -> list[_Line | None]:
    """The text of each box (None where nothing legible was read)."""
    lines: list[_Line | None] = []
    for box in boxes:
        ctx.check_time()
        crop = _crop(reading, box)
        if crop is None:
            lines.append(None)
            continue
        result = engine(crop, use_det=False, use_cls=False, use_rec=True)
        texts: Sequence[str] = result.txts or ()
        scores: Sequence[float] = result.scores or ()
        if texts and scores and float(scores[0]) >= MIN_SCORE and str(texts[0]).strip():
            lines.append(_Line(box, normalise_ocr_text(str(texts[0]))))
        else:
            lines.append(None)
    return lines


def _crop(reading: Any, box: _Box) -> Any:
    """The box's text straightened into its own image (a perspective crop)."""
    import cv2
    import numpy as np

    points = np.array(box.points, dtype=np.float32)
    if points.shape != (4, 2):
        return None
    width = int(max(np.linalg.norm(points[0] - points[1]), np.linalg.norm(points[2] - points[3])))
    height = int(max(np.linalg.norm(points[0] - points[3]), np.linalg.norm(points[1] - points[2])))
    if width < 4 or height < 4:
        return None
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(points, target)
    crop = cv2.warpPerspective(
        reading, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC
    )
    if height >= 1.5 * width:
        crop = np.rot90(crop)  # vertical text: read it lying down
    return np.ascontiguousarray(crop)


def _rows(boxes: Sequence[_Box]) -> list[list[_Box]]:
    """Boxes grouped into rows of text, top to bottom, each row left to right."""
    rows: list[list[_Box]] = []
    for box in sorted(boxes, key=lambda b: b.middle):
        if rows:
            row = rows[-1]
            reference = row[0]
            if abs(box.middle - reference.middle) < 0.5 * max(reference.height, box.height):
                row.append(box)
                continue
        rows.append([box])
    return [sorted(row, key=lambda b: b.left) for row in rows]


def _rows_text(lines: Sequence[_Line]) -> str:
    by_box = {line.box: line.text for line in lines}
    return "\n".join(
        "   ".join(by_box[box] for box in row) for row in _rows([line.box for line in lines])
    )


def _unique(findings: list[Finding]) -> list[Finding]:
    merged: dict[tuple[str, ...], Finding] = {}
    for finding in findings:
        key = finding.identity()
        merged[key] = merged[key].merged_with(finding) if key in merged else finding
    return list(merged.values())
