"""The demo coalition: a deterministic, realistic pledge graph for trying the hub."""
