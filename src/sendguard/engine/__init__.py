"""The guard engine: watch group folders, hold labelled arrivals, release or return them."""
