"""The users function: accounts, tracked flights and alerts, with the routes of each."""
