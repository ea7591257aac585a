"""HTTP plumbing every API function shares: the resolver and its request gate, typed parameters,
strict JSON bodies, route access and the OpenAPI document."""
