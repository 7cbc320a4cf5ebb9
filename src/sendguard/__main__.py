from sendguard.cli import entry_point

entry_point()
