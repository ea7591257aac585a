"""The local stand-in for Ignav's fare API (Ignav Public API 1.0.0): `ignav_sim.app.Simulator` (a WSGI
app) served by `fare_sim.server.start`, or `python -m ignav_sim`; `FAREWATCH_FARE_SOURCE=ignav make dev`."""
