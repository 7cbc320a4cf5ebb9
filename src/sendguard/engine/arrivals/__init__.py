"""Who put a file into a group folder: share, download, edit or SendGuard's own move."""

from sendguard.engine.arrivals.classifier import ArrivalClassifier, How, Observation, own
from sendguard.engine.arrivals.clients import StateVerdict, SyncClient, default_clients
from sendguard.engine.arrivals.model import Arrival, Evidence, Kind, Strength

__all__ = [
    "Arrival",
    "ArrivalClassifier",
    "Evidence",
    "How",
    "Kind",
    "Observation",
    "StateVerdict",
    "Strength",
    "SyncClient",
    "default_clients",
    "own",
]
