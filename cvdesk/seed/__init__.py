"""Seed data: datasets written through the services, as a user would (the demo).

Seed data is not a use case of the desk: it sits above the services and calls
them like any face does, so the demo exercises the same rules and transactions
as real work.
"""
