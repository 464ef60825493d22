"""IATI activity files: a streaming, pure parser (``parse``) into typed records (``records``)."""
