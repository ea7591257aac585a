"""`python -m ignav_sim`: the Ignav simulator on its own, in the foreground, until Ctrl-C.

The key it accepts comes from IGNAV_API_KEY (default: the local one the rest of Farewatch uses);
IGNAV_PRICE_PER_TRAVELLER=true answers prices per traveller instead of for all travellers.
"""

import os
import sys

from fare_sim.server import serve_from_command_line
from ignav_sim.app import DEFAULT_API_KEY, Simulator

key = os.environ.get("IGNAV_API_KEY") or DEFAULT_API_KEY
per_traveller = os.environ.get("IGNAV_PRICE_PER_TRAVELLER", "").lower() in ("1", "true", "yes")
make_app = lambda: Simulator(api_key=key, price_per_traveller=per_traveller)  # noqa: E731
sys.exit(serve_from_command_line(None, prog="ignav_sim", title="Ignav simulator", make_app=make_app))
