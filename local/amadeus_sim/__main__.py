"""`python -m amadeus_sim`: the simulator on its own, in the foreground, until Ctrl-C.

The client id and secret come from AMADEUS_CLIENT_ID / AMADEUS_CLIENT_SECRET, defaulting to
the local pair the rest of Farewatch uses.
"""

from __future__ import annotations

import argparse
import os
import sys

from amadeus_sim.app import Simulator
from amadeus_sim.server import serve_in_foreground

DEFAULT_CLIENT_ID = "farewatch-local"
DEFAULT_CLIENT_SECRET = "farewatch-local-secret"  # noqa: S105 - the published local default, not a secret


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m amadeus_sim", description="Local stand-in for the Amadeus Self-Service fare API."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on (default 8081; 0 = any)")
    options = parser.parse_args(argv)

    client_id = os.environ.get("AMADEUS_CLIENT_ID") or DEFAULT_CLIENT_ID
    client_secret = os.environ.get("AMADEUS_CLIENT_SECRET") or DEFAULT_CLIENT_SECRET
    simulator = Simulator(client_id=client_id, client_secret=client_secret)
    return serve_in_foreground(
        simulator,
        prog="amadeus_sim",
        title="Amadeus simulator",
        host=options.host,
        port=options.port,
        detail=f" (client id {client_id!r})",
    )


if __name__ == "__main__":
    sys.exit(main())
