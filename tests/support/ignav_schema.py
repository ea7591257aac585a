"""JSON Schemas of Ignav's answers, written here from the documented fields (Ignav Public API 1.0.0, as
../shared/notes/ignav-api.md §5-§8 lists them: names, types, required keys, nullability, enums, and
`additionalProperties: false` on every object).

Ignav's own OpenAPI document is not vendored: the copy in voxgig-sdk/ignav-flight-sdk carries that
repository's MIT licence, which is the SDK's, not a grant from Ignav for its document (whose `info`
names no licence). So the tests validate against these schemas, built from the documented contract.
"""

from __future__ import annotations

from typing import Any


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": required, "properties": properties}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
# Not a boolean: JSON Schema counts true as an integer in no draft, but be explicit about numbers.
NUMBER = {"type": "number"}
LOCAL_TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"}  # no offset
UTC_TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"}
DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}

PRICE = _object(
    ["amount", "currency", "status"],
    amount=NUMBER,
    currency={"type": "string", "pattern": "^[A-Z]{3}$"},
    status={"type": "string", "enum": ["verified", "unverified"]},
)
SEGMENT = _object(
    [
        "marketing_carrier_code",
        "flight_number",
        "operating_carrier_name",
        "departure_airport",
        "departure_time_local",
        "departure_timezone",
        "departure_time_utc",
        "arrival_airport",
        "arrival_time_local",
        "arrival_timezone",
        "arrival_time_utc",
        "duration_minutes",
        "aircraft",
    ],
    marketing_carrier_code=_nullable({"type": "string", "pattern": "^[A-Z0-9]{2}$"}),
    flight_number=_nullable({"type": "string", "pattern": "^[0-9]+$"}),
    operating_carrier_name=_nullable(STRING),
    departure_airport={"type": "string", "pattern": "^[A-Z]{3}$"},
    departure_time_local=LOCAL_TIME,
    departure_timezone=_nullable(STRING),
    departure_time_utc=_nullable(UTC_TIME),
    arrival_airport={"type": "string", "pattern": "^[A-Z]{3}$"},
    arrival_time_local=LOCAL_TIME,
    arrival_timezone=_nullable(STRING),
    arrival_time_utc=_nullable(UTC_TIME),
    duration_minutes=INTEGER,
    aircraft=_nullable(STRING),
)
LEG = _object(
    ["segments"],
    carrier=_nullable(STRING),
    duration_minutes=_nullable(INTEGER),
    segments={"type": "array", "items": SEGMENT, "minItems": 1},
)
BAGS = _object([], carry_on=_nullable(INTEGER), checked=_nullable(INTEGER))
_ITINERARY_FIELDS = {
    "price": PRICE,
    "outbound": LEG,
    "inbound": _nullable(LEG),
    "cabin_class": _nullable(STRING),
    "bags": _nullable(BAGS),
    "requires_self_transfer": _nullable({"type": "boolean"}),
}
ITINERARY = _object(
    ["price", "outbound", "ignav_id"],
    **_ITINERARY_FIELDS,
    ignav_id={"type": "string", "pattern": "^[0-9a-f]{32}$"},
)
FARE_SEARCH_RESPONSE = _object(
    ["origin", "destination", "departure_date", "itineraries"],
    origin=STRING,
    destination=STRING,
    departure_date=DATE,
    return_date=_nullable(DATE),
    itineraries={"type": "array", "items": ITINERARY},
)
BOOKING_LINK = _object(
    ["provider_name", "url", "provider_type"],
    provider_name=STRING,
    provider_type={"type": "string", "enum": ["airline", "third_party"]},
    fare_name=_nullable(STRING),
    price=_nullable(PRICE),
    url={"type": "string", "pattern": "^https?://"},
)
BOOKING_OPTIONS_RESPONSE = _object(
    ["itinerary", "booking_options"],
    itinerary=_object(["price", "outbound"], **_ITINERARY_FIELDS),
    booking_options={
        "type": "array",
        "items": _object(
            ["legs", "links"],
            legs={"type": "array", "items": {"type": "string", "enum": ["outbound", "inbound"]}},
            links={"type": "array", "items": BOOKING_LINK},
        ),
    },
)
AIRPORTS_RESPONSE = {
    "type": "array",
    "items": _object(
        ["code", "name", "city", "country"], code=STRING, name=STRING, city=STRING, country=STRING
    ),
}
ERROR_RESPONSE = _object(
    ["error"],
    error=_object(
        ["type", "code", "message"], type=STRING, code=STRING, message=STRING, field=_nullable(STRING)
    ),
)
