"""Progress reports: what a pledge achieved in a period, against its targets."""
