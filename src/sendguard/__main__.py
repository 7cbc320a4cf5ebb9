from sendguard.cli import entry_point

# Guarded: the scanning process (labels/worker.py) is spawned, and a spawned child imports
# the parent's main module under another name.
if __name__ == "__main__":
    entry_point()
