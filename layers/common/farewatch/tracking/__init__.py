"""Price tracking (SPEC §4): tracked flights, watched routes, drop rules, alerts and route statistics."""
