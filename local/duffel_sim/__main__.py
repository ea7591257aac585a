"""`python -m duffel_sim`: the Duffel simulator on its own, in the foreground, until Ctrl-C.

The access token it accepts comes from DUFFEL_ACCESS_TOKEN, defaulting to the local one the rest of
Farewatch uses.
"""

import os
import sys

from duffel_sim.app import DEFAULT_ACCESS_TOKEN, Simulator
from fare_sim.server import serve_from_command_line

token = os.environ.get("DUFFEL_ACCESS_TOKEN") or DEFAULT_ACCESS_TOKEN
make_app = lambda: Simulator(access_token=token)  # noqa: E731
sys.exit(serve_from_command_line(None, prog="duffel_sim", title="Duffel simulator", make_app=make_app))
