"""Farewatch's shared package: settings, fare sources, the fare cache, data access and API plumbing."""
