"""Operator and build tools that run from a checkout (never deployed): `make grant-admin`, `make openapi`."""
