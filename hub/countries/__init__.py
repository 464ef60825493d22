"""Countries (ISO 3166-1 alpha-3) that pledges target and organisations are based in."""
