"""`python -m duffel_sim`: the Duffel simulator on its own, in the foreground, until Ctrl-C.

The access token it accepts comes from DUFFEL_ACCESS_TOKEN, defaulting to the local one the rest of
Farewatch uses.
"""

from __future__ import annotations

import argparse
import os
import sys

from amadeus_sim.server import serve_in_foreground
from duffel_sim.app import DEFAULT_ACCESS_TOKEN, Simulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m duffel_sim", description="Local stand-in for Duffel.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on (default 8081; 0 = any)")
    options = parser.parse_args(argv)

    simulator = Simulator(access_token=os.environ.get("DUFFEL_ACCESS_TOKEN") or DEFAULT_ACCESS_TOKEN)
    return serve_in_foreground(
        simulator, prog="duffel_sim", title="Duffel simulator", host=options.host, port=options.port
    )


if __name__ == "__main__":
    sys.exit(main())
