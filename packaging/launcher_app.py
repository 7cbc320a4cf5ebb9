"""The windowed app's entry point (Windows, macOS): ``sendguard app`` without a console."""

import multiprocessing
import sys

from sendguard.cli import main

if __name__ == "__main__":
    # The scanning process (OCR) is spawned from this executable: let it be that child.
    multiprocessing.freeze_support()
    arguments = sys.argv[1:]
    sys.exit(main(arguments if arguments[:1] == ["app"] else ["app", *arguments]))
