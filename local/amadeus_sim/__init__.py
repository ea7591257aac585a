"""Amadeus simulator: the local stand-in for the closed Amadeus Self-Service fare API.

It serves the OAuth2 token endpoint and Flight Offers Search v2 the way Amadeus's published OpenAPI
files describe them, plus `/__sim/...` control routes for tests and demos. Start with
`amadeus_sim.app.Simulator` (a WSGI app) and `fare_sim.server.start`, or `python -m amadeus_sim`.
"""
