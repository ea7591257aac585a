"""`python -m ignav_sim`: the Ignav simulator on its own, in the foreground, until Ctrl-C.

The key it accepts comes from IGNAV_API_KEY (default: the local one the rest of Farewatch uses);
IGNAV_PRICE_PER_TRAVELLER=true answers prices per traveller instead of for all travellers.
"""

from __future__ import annotations

import argparse
import os
import sys

from amadeus_sim.server import serve_in_foreground
from ignav_sim.app import DEFAULT_API_KEY, Simulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ignav_sim", description="Local stand-in for Ignav.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on (default 8081; 0 = any)")
    options = parser.parse_args(argv)

    simulator = Simulator(
        api_key=os.environ.get("IGNAV_API_KEY") or DEFAULT_API_KEY,
        price_per_traveller=os.environ.get("IGNAV_PRICE_PER_TRAVELLER", "").lower() in ("1", "true", "yes"),
    )
    return serve_in_foreground(
        simulator, prog="ignav_sim", title="Ignav simulator", host=options.host, port=options.port
    )


if __name__ == "__main__":
    sys.exit(main())
