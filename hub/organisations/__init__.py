"""Organisations and coalition members."""
