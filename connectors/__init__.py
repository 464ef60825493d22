"""Partner sync connectors: fetch partner data, parse it purely, hand records to ``hub``."""
