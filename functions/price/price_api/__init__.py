"""The price function: Farewatch's public flight endpoints."""
