"""Pictures for OCR tests, drawn with Pillow: photographed pages and ordinary images."""

from __future__ import annotations

import random
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

BODY = [
    "The committee met on Tuesday to review the budget for next year.",
    "Staffing levels remain unchanged in all regional offices.",
    "Travel requests must be approved two weeks in advance.",
    "The new building opens in the spring, as planned.",
]


@cache
def cjk_font() -> str:
    """A font with Latin and Chinese letters (Noto Sans CJK, installed with fonts-noto-cjk)."""
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", "Noto Sans CJK SC:style=Bold"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):  # no fontconfig tools: look for it
        found = next(iter(sorted(Path("/usr/share/fonts").rglob("NotoSansCJK*.tt[cf]"))), "")
    assert "CJK" in str(found) and Path(found).is_file(), f"install fonts-noto-cjk ({found!r})"
    return str(found)


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(cjk_font(), size)


def page(
    top: str | None = None,
    bottom: str | None = None,
    *,
    size: tuple[int, int] = (1240, 1754),
    banner_colour: tuple[int, int, int] = (190, 20, 20),
) -> Image.Image:
    """A document page: an optional marking at the top and the bottom, body text between."""
    width, height = size
    picture = Image.new("RGB", size, (248, 246, 240))
    draw = ImageDraw.Draw(picture)
    banner = font(width // 18)
    body = font(width // 44)
    if top:
        box = draw.textbbox((0, 0), top, font=banner)
        draw.text(((width - box[2]) // 2, height // 30), top, font=banner, fill=banner_colour)
    for line in range(16):
        draw.text(
            (width // 12, height // 6 + line * height // 26),
            BODY[line % len(BODY)],
            font=body,
            fill=(35, 35, 35),
        )
    if bottom:
        box = draw.textbbox((0, 0), bottom, font=banner)
        draw.text(
            ((width - box[2]) // 2, height - height // 12), bottom, font=banner, fill=banner_colour
        )
    return picture


def photograph(
    document: Image.Image,
    *,
    frame: tuple[int, int] = (3000, 4000),
    fill: float = 0.92,
    angle: float = 3.0,
    seed: int = 7,
) -> Image.Image:
    """`document` as a phone photographs it: on a desk, turned a little, blurred, noisy."""
    rng = random.Random(seed)
    width, height = frame
    scale = fill * min(width / document.width, height / document.height)
    shot = document.resize((int(document.width * scale), int(document.height * scale)))
    shot = shot.rotate(
        angle, expand=True, fillcolor=(96, 78, 60), resample=Image.Resampling.BICUBIC
    )
    desk = Image.new("RGB", frame, (96, 78, 60))
    desk.paste(shot, ((width - shot.width) // 2, (height - shot.height) // 2))
    desk = desk.filter(ImageFilter.GaussianBlur(1.2))
    noise = Image.effect_noise(frame, 18).convert("RGB")
    return Image.blend(desk, noise, 0.06 + rng.random() * 0.02)


def landscape(size: tuple[int, int] = (4000, 3000), seed: int = 3) -> Image.Image:
    """A landscape-like picture: sky and ground gradients, hills, a sun, noise."""
    rng = random.Random(seed)
    width, height = size
    picture = Image.linear_gradient("L").resize(size).convert("RGB")
    sky = Image.new("RGB", size, (90, 150, 230))
    picture = Image.blend(picture, sky, 0.6)
    draw = ImageDraw.Draw(picture)
    for _ in range(5):
        x = rng.randrange(width)
        draw.ellipse(
            (x - width // 3, height // 2, x + width // 3, height + height // 2),
            fill=(40 + rng.randrange(40), 110 + rng.randrange(60), 40),
        )
    draw.ellipse(
        (width * 3 // 4, height // 10, width * 3 // 4 + 300, height // 10 + 300),
        fill=(250, 220, 90),
    )
    noise = Image.effect_noise(size, 30).convert("RGB")
    return Image.blend(picture, noise, 0.08)


def chat_screenshot(messages: Sequence[str], size: tuple[int, int] = (1080, 2340)) -> Image.Image:
    """A phone screenshot of a chat: a title bar, speech bubbles, an input bar."""
    width, height = size
    picture = Image.new("RGB", size, (237, 237, 237))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 0, width, 160), fill=(250, 250, 250))
    draw.text((width // 2 - 120, 60), "Family chat", font=font(48), fill=(20, 20, 20))
    text = font(42)
    y = 240
    for index, message in enumerate(messages):
        mine = index % 2 == 1
        box = draw.textbbox((0, 0), message, font=text)
        bubble = box[2] + 60
        left = width - bubble - 40 if mine else 40
        draw.rounded_rectangle(
            (left, y, left + bubble, y + 110), 24, fill=(149, 236, 105) if mine else (255, 255, 255)
        )
        draw.text((left + 30, y + 28), message, font=text, fill=(20, 20, 20))
        y += 170
    draw.rectangle((0, height - 150, width, height), fill=(247, 247, 247))
    return picture


def save_jpeg(picture: Image.Image, path: Path, quality: int = 72) -> Path:
    picture.save(path, "JPEG", quality=quality)
    return path
