"""Money: ISO 4217 currencies, exact amounts in minor units, flows and their totals."""
