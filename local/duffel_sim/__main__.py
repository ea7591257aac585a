"""`python -m duffel_sim`: the Duffel simulator on its own, in the foreground, until Ctrl-C.

The access token it accepts comes from DUFFEL_ACCESS_TOKEN, defaulting to the local one the rest of
Farewatch uses.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from types import FrameType

from amadeus_sim.server import start
from duffel_sim.app import DEFAULT_ACCESS_TOKEN, Simulator


def _stop_on_terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m duffel_sim", description="Local stand-in for Duffel.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on (default 8081; 0 = any)")
    options = parser.parse_args(argv)

    simulator = Simulator(access_token=os.environ.get("DUFFEL_ACCESS_TOKEN") or DEFAULT_ACCESS_TOKEN)
    try:
        server = start(simulator, host=options.host, port=options.port)
    except OSError as cannot_bind:
        print(f"duffel_sim: cannot listen on {options.host}:{options.port}: {cannot_bind}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _stop_on_terminate)
    print(f"Duffel simulator on {server.url}; Ctrl-C stops it", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("Duffel simulator stopped", flush=True)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
