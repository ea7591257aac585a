"""Duffel simulator: the local stand-in for Duffel's flight search (offer requests and offers, v2).

It answers like Duffel's test mode in shape, headers and errors, prices flights from the Amadeus
simulator's deterministic timetable and drifting fares, and offers the same `/__sim/...` control
routes. Start with `duffel_sim.app.Simulator` (a WSGI app) and `fare_sim.server.start`, or
`python -m duffel_sim`.
"""
