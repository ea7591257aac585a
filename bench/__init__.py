"""Benchmarks that print figures (not pass/fail): `make bench` or `python -m bench`."""
