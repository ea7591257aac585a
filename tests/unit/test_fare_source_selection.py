"""Choosing the fare source by configuration: settings, the composition root, the cache keys, and
the local stack's reading of FAREWATCH_FARE_SOURCE / DUFFEL_* variables."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from farewatch.clock import ManualClock
from farewatch.composition import build_fare_source, duffel_access_token
from farewatch.errors import UpstreamUnavailable
from farewatch.fares.amadeus import AmadeusFareSource
from farewatch.fares.duffel import DuffelFareSource
from farewatch.settings import Settings
from farewatch.store.fare_cache import FareCacheStore
from farewatch_local.stack import DEFAULT_DUFFEL_TOKEN, StackConfig, StackError


def settings_with(monkeypatch: pytest.MonkeyPatch, **environment: str) -> Settings:
    for name in ("FAREWATCH_FARE_SOURCE", "DUFFEL_ACCESS_TOKEN", "DUFFEL_SECRET_ID"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_amadeus_is_the_default_source(monkeypatch: pytest.MonkeyPatch) -> None:
    source = build_fare_source(settings_with(monkeypatch), ManualClock())

    assert isinstance(source, AmadeusFareSource) and source.name == "amadeus"


def test_farewatch_fare_source_duffel_builds_the_duffel_source(monkeypatch: pytest.MonkeyPatch) -> None:
    source = build_fare_source(settings_with(monkeypatch, FAREWATCH_FARE_SOURCE="duffel"), ManualClock())

    assert isinstance(source, DuffelFareSource) and source.name == "duffel"


def test_an_unknown_source_is_refused_when_settings_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError):
        settings_with(monkeypatch, FAREWATCH_FARE_SOURCE="skyscanner")


def test_the_duffel_token_comes_from_the_environment_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_with(monkeypatch, DUFFEL_ACCESS_TOKEN="duffel_test_abc")

    token = duffel_access_token(settings)

    assert token.get_secret_value() == "duffel_test_abc" and "duffel_test_abc" not in repr(token)


def test_no_duffel_token_and_no_secret_is_not_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UpstreamUnavailable) as raised:
        duffel_access_token(settings_with(monkeypatch))

    assert (raised.value.status, raised.value.code) == (503, "upstream_not_configured")


def test_each_source_has_its_own_cache_entries() -> None:
    amadeus, duffel = FareCacheStore.for_source("amadeus"), FareCacheStore.for_source("duffel")
    key = "JFK#LAX#2027-01-15#1#USD"

    assert amadeus._pk(key) == "fares#JFK#LAX#2027-01-15#1#USD"  # unchanged: existing entries stay valid
    assert duffel._pk(key) == "fares#duffel#JFK#LAX#2027-01-15#1#USD"


# -- the local stack --------------------------------------------------------------------------------


def test_the_local_stack_uses_amadeus_unless_told_otherwise() -> None:
    config = StackConfig.from_environ({})

    assert (config.fare_source, config.fare_api_url) == ("amadeus", None)


def test_the_local_stack_reads_the_duffel_choice_and_defaults_the_simulator_token() -> None:
    config = StackConfig.from_environ({"FAREWATCH_FARE_SOURCE": "Duffel"})

    assert config.fare_source == "duffel"
    assert config.fare_api_credentials == {"access_token": DEFAULT_DUFFEL_TOKEN}
    assert "duffel_test" not in repr(config)


def test_an_external_duffel_needs_a_token() -> None:
    with pytest.raises(StackError, match="DUFFEL_ACCESS_TOKEN"):
        StackConfig.from_environ(
            {"FAREWATCH_FARE_SOURCE": "duffel", "DUFFEL_BASE_URL": "https://api.duffel.com"}
        )


def test_an_external_duffel_with_a_token_replaces_the_simulator() -> None:
    config = StackConfig.from_environ(
        {
            "FAREWATCH_FARE_SOURCE": "duffel",
            "DUFFEL_BASE_URL": "https://api.duffel.com/",
            "DUFFEL_ACCESS_TOKEN": "duffel_test_mine",
        }
    )

    assert (config.fare_api_url, config.fare_api_credentials) == (
        "https://api.duffel.com",
        {"access_token": "duffel_test_mine"},
    )


def test_an_unknown_local_source_is_a_one_line_error() -> None:
    with pytest.raises(StackError, match="FAREWATCH_FARE_SOURCE"):
        StackConfig.from_environ({"FAREWATCH_FARE_SOURCE": "kayak"})
