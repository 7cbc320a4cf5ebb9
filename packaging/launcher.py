"""The bundle's entry point: the same ``sendguard`` command as the installed package."""

from sendguard.cli import entry_point

if __name__ == "__main__":
    entry_point()
