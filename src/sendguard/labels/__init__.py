"""The label engine: bytes on disk → findings. Pure: no Qt, no watcher, no policy."""

from sendguard.labels.context import DEFAULT_LIMITS, Limits
from sendguard.labels.detect import detect
from sendguard.labels.model import Finding, Findings, Scheme, Verdict
from sendguard.labels.read import read_labels

__all__ = [
    "DEFAULT_LIMITS",
    "Finding",
    "Findings",
    "Limits",
    "Scheme",
    "Verdict",
    "detect",
    "read_labels",
]
