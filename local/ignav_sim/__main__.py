"""`python -m ignav_sim`: the Ignav simulator alone, in the foreground, until Ctrl-C; the key from
IGNAV_API_KEY (default: the local one), IGNAV_PRICE_PER_TRAVELLER=true prices per traveller."""

import os
import sys

from fare_sim.server import serve_from_command_line
from ignav_sim.app import DEFAULT_API_KEY, Simulator

per_traveller = os.environ.get("IGNAV_PRICE_PER_TRAVELLER", "").lower() in ("1", "true", "yes")
app = Simulator(api_key=os.environ.get("IGNAV_API_KEY") or DEFAULT_API_KEY, price_per_traveller=per_traveller)
sys.exit(serve_from_command_line(None, prog="ignav_sim", app=app))
