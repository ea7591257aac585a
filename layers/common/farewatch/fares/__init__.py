"""Fare sources: the only code that talks HTTP to a fare API. Each returns normalised `Offer`s."""
