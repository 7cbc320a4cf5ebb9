"""The bundle's entry point: the same ``sendguard`` command as the installed package."""

import multiprocessing

from sendguard.cli import entry_point

if __name__ == "__main__":
    # The scanning process (OCR) is spawned from this executable: let it be that child.
    multiprocessing.freeze_support()
    entry_point()
