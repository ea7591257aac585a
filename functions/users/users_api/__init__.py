"""The users function: accounts and, later, tracked flights and alerts."""
