"""A local stand-in for Ignav's fare API (Ignav Public API 1.0.0): one-way and round-trip searches,
booking links, airport lookup, with the shared timetable, fares, pins, faults and `/__sim` controls of
the Amadeus simulator. `python -m ignav_sim` serves it alone; `FAREWATCH_FARE_SOURCE=ignav make dev`
starts it with the stack.
"""
