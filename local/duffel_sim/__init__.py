"""The local stand-in for Duffel's flight search (offer requests and offers, v2, as in test mode):
`duffel_sim.app.Simulator` (a WSGI app) served by `fare_sim.server.start`, or `python -m duffel_sim`."""
