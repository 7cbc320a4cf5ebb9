"""The window used where there is no tray, at 100 % and 200 %: every button at least as
tall and wide as it asks to be, its text inside it, nothing outside the window, the window
on the screen — as shown, after a long notification, and made as small as it lets itself.

Each scale runs in its own process (the scale is set once per process): the app's real
window, offscreen on a screen of a common size given to Qt's offscreen platform."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

CASES = [
    # id, QT_SCALE_FACTOR, the screen in device pixels, language, pause allowed
    ("100%", 1, (1366, 768), "", "true"),
    ("200%", 2, (1920, 1080), "", "true"),
    ("200%, pause locked", 2, (1920, 1080), "", "false"),
    ("200%, Chinese", 2, (2560, 1440), "zh_CN", "false"),
    ("100%, Chinese", 1, (1366, 768), "zh_CN", "true"),
]


def run_window(
    tmp_path: Path, scale: int, screen: tuple[int, int], language: str, pause: str
) -> dict[str, Any]:
    config = tmp_path / "screen.json"
    width, height = screen
    config.write_text(
        json.dumps(
            {
                "screens": [
                    {
                        "name": "Screen",
                        "x": 0,
                        "y": 0,
                        "width": width,
                        "height": height,
                        "logicalDpi": 96,
                        "logicalBaseDpi": 96,
                        "dpr": 1,
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    env = dict(os.environ)
    env.pop("QT_SCREEN_SCALE_FACTORS", None)
    env.pop("QT_AUTO_SCREEN_SCALE_FACTOR", None)
    env.update(
        QT_QPA_PLATFORM=f"offscreen:configfile={config}",
        QT_SCALE_FACTOR=str(scale),
        HOME=str(tmp_path / "home"),
    )
    folder = tmp_path / "app"
    folder.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "tests.app.fallback_window_scaled", str(folder), language, pause],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    measured: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def inside(inner: list[int], outer: list[int]) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return x >= ox and y >= oy and x + w <= ox + ow and y + h <= oy + oh


def overlap(a: list[int], b: list[int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def problems(measured: dict[str, Any]) -> list[str]:
    """What a user would see wrong: a squeezed or cut button, a cut text, a clipped window."""
    found = []
    window = [0, 0, *measured["size"]]
    if not inside(measured["frame"], measured["screen"]):
        found.append(f"window {measured['frame']} is not on the screen {measured['screen']}")
    buttons = measured["buttons"]
    for button in buttons:
        name = repr(button["text"])
        _, _, width, height = button["rect"]
        hint_width, hint_height = button["hint"]
        if not button["visible"]:
            found.append(f"{name} is hidden")
        if height < hint_height:
            found.append(f"{name} is {height} px high, it needs {hint_height}")
        if width < hint_width:
            found.append(f"{name} is {width} px wide, it needs {hint_width}")
        if button["text_width"] > width:
            found.append(f"{name}: its text is {button['text_width']} px, the button {width}")
        if not inside(button["rect"], window):
            found.append(f"{name} at {button['rect']} is outside the window {window}")
    for number, button in enumerate(buttons):
        for other in buttons[number + 1 :]:
            if overlap(button["rect"], other["rect"]):
                found.append(f"{button['text']!r} overlaps {other['text']!r}")
    for label in measured["labels"]:
        if label["visible"] and label["rect"][3] < label["needed"]:
            found.append(
                f"label {label['text']!r} is {label['rect'][3]} px high, needs {label['needed']}"
            )
        if label["visible"] and not inside(label["rect"], window):
            found.append(f"label {label['text']!r} at {label['rect']} is outside the window")
    return found


@pytest.mark.parametrize(
    ("scale", "screen", "language", "pause"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_the_window_without_a_tray_fits_its_buttons_and_texts(
    tmp_path: Path, scale: int, screen: tuple[int, int], language: str, pause: str
) -> None:
    result = run_window(tmp_path, scale, screen, language, pause)
    for moment in ("shown", "message", "smallest"):
        measured = result[moment]
        assert measured["scale"] == scale  # the scale took
        assert len(measured["buttons"]) >= 8, measured["buttons"]  # all the actions
        assert problems(measured) == [], moment
    # The long notification is there in full, wrapped.
    assert any(
        "Decide whether it should go there." in label["text"] for label in measured["labels"]
    )
    # Made as small as it allows, it is no smaller than what it shows.
    assert result["smallest"]["size"] == result["smallest"]["minimum"]
    if pause == "false" and not language:  # the longest button text there is
        texts = [button["text"] for button in measured["buttons"]]
        assert "Pause for 15 minutes… — Managed by your organisation" in texts
