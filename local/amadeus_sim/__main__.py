"""`python -m amadeus_sim`: the simulator alone, in the foreground, until Ctrl-C; the client id and secret
from AMADEUS_CLIENT_ID / AMADEUS_CLIENT_SECRET, by default the local pair the rest of Farewatch uses."""

import os
import sys

from amadeus_sim.app import Simulator
from fare_sim.server import serve_from_command_line

client_id = os.environ.get("AMADEUS_CLIENT_ID") or "farewatch-local"
app = Simulator(
    client_id=client_id, client_secret=os.environ.get("AMADEUS_CLIENT_SECRET") or "farewatch-local-secret"
)
sys.exit(serve_from_command_line(None, prog="amadeus_sim", app=app, detail=f" (client id {client_id!r})"))
