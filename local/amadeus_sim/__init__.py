"""The local stand-in for the closed Amadeus Self-Service fare API (OAuth2 token, Flight Offers Search v2):
`amadeus_sim.app.Simulator` (a WSGI app) served by `fare_sim.server.start`, or `python -m amadeus_sim`."""
