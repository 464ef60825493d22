"""Co-endorsements: organisations standing behind a pledge, each in one or more roles."""
