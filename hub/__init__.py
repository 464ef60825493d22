"""P2C Hub core: settings, database, domain models and services, the app factory and CLI."""
