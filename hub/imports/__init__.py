"""The hub's side of connectors: their configuration, runs, source records, dead letters and
review queue, and the one service that writes an imported pledge."""
