"""Driving the simulators in-process from tests: a clock moved by hand, a recorded sleep, a signed-in client.

No sockets and no real waiting: `SimulatorClient` talks WSGI through werkzeug's test client.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from werkzeug.test import Client, TestResponse

from amadeus_sim.app import FLIGHT_OFFERS_PATH, TOKEN_PATH, Simulator

# 2026-03-02T09:00:00Z: the start of a drift bucket, so advancing less than 30 minutes stays in it.
DEFAULT_START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC).timestamp()


class ManualClock:
    """Epoch seconds that only move when a test says so."""

    def __init__(self, start: float = DEFAULT_START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    @property
    def today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.now, tz=dt.UTC).date()

    def days_ahead(self, days: int) -> str:
        return (self.today + dt.timedelta(days=days)).isoformat()


class RecordingSleep:
    """Stands in for time.sleep: remembers what it was asked to wait, waits for nothing."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class SimulatorClient:
    """A client of the simulator's Amadeus API, signing in with the simulator's own credentials."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.http = Client(simulator)

    def request_token(self, **form: str) -> TestResponse:
        fields = {
            "grant_type": "client_credentials",
            "client_id": self.simulator.client_id,
            "client_secret": self.simulator.client_secret,
        }
        fields.update(form)
        return self.http.post(
            TOKEN_PATH, data={name: value for name, value in fields.items() if value is not None}
        )

    def token(self) -> str:
        answer = self.request_token()
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return str(answer.get_json()["access_token"])

    def _authorization(self, token: str | None, headers: dict[str, str | None] | None) -> dict[str, str]:
        if headers and "Authorization" in headers:
            return {}  # the test sends its own (or none): do not ask for a token it will not use
        return {"Authorization": f"Bearer {token or self.token()}"}

    def search(
        self, *, token: str | None = None, headers: dict[str, str | None] | None = None, **params: Any
    ) -> TestResponse:
        """GET flight-offers with `params` as the query string (a new token unless one is given).

        A header given as None is left out, e.g. `headers={"Authorization": None}`.
        """
        sent = _headers(self._authorization(token, headers), headers)
        return self.http.get(FLIGHT_OFFERS_PATH, query_string=params, headers=sent)

    def search_by_post(
        self,
        *,
        token: str | None = None,
        headers: dict[str, str | None] | None = None,
        body: Any = None,
        **params: Any,
    ) -> TestResponse:
        """POST flight-offers with the method override header, query params and an optional JSON body."""
        sent = _headers({**self._authorization(token, headers), "X-HTTP-Method-Override": "GET"}, headers)
        if body is None:
            return self.http.post(FLIGHT_OFFERS_PATH, query_string=params, headers=sent)
        return self.http.post(FLIGHT_OFFERS_PATH, query_string=params, headers=sent, json=body)


def _headers(defaults: dict[str, str], overrides: dict[str, str | None] | None) -> dict[str, str]:
    merged: dict[str, str | None] = {**defaults, **(overrides or {})}
    return {name: value for name, value in merged.items() if value is not None}
