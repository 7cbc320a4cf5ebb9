"""SendGuard: hold labelled documents before they are shared into the wrong group."""

__version__ = "0.1.0"
