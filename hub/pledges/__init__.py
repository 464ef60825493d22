"""Pledges: what members commit to, where, for whom, and how it is measured."""
