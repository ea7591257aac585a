"""`python -m duffel_sim`: the Duffel simulator alone, in the foreground, until Ctrl-C; the access token
it accepts from DUFFEL_ACCESS_TOKEN, by default the local one the rest of Farewatch uses."""

import os
import sys

from duffel_sim.app import DEFAULT_ACCESS_TOKEN, Simulator
from fare_sim.server import serve_from_command_line

app = Simulator(access_token=os.environ.get("DUFFEL_ACCESS_TOKEN") or DEFAULT_ACCESS_TOKEN)
sys.exit(serve_from_command_line(None, prog="duffel_sim", app=app))
