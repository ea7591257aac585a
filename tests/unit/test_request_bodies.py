"""Strict JSON bodies through a real resolver (request gate, then Powertools' validation of the
route's body model): each kind of bad body answers its own 4xx, and nothing else ever escapes."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Annotated, Any

import pytest
from aws_lambda_powertools.event_handler.openapi.params import Body
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from farewatch.api.resolver import create_resolver
from tests.support.events import FakeLambdaContext, api_event

MAX_BYTES = 256
JSON_HEADERS = {"Content-Type": "application/json"}


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=64)
    password: str = Field(max_length=32)


def resolver(max_bytes: int) -> Any:
    app = create_resolver(max_body_bytes=max_bytes)

    @app.post("/sign-in")
    def sign_in(credentials: Annotated[Credentials, Body()]) -> Credentials:
        return credentials

    return app


APPS = {MAX_BYTES: resolver(MAX_BYTES), 20_000: resolver(20_000)}


@dataclass
class Refusal:
    """What the client is answered when its body is refused."""

    status: int
    code: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)


class Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.code)
        self.refusal = refusal


def parse(body, headers=JSON_HEADERS, *, base64_encoded=False, max_bytes=MAX_BYTES) -> Credentials:
    event = api_event("POST", "/sign-in")
    event["headers"] = dict(headers) if headers is not None else None
    event["multiValueHeaders"] = {name: [value] for name, value in (headers or {}).items()}
    event["body"], event["isBase64Encoded"] = body, base64_encoded
    response = APPS[max_bytes].resolve(event, FakeLambdaContext())
    answer = json.loads(response["body"])
    if response["statusCode"] != 200:
        raise Refused(Refusal(response["statusCode"], **answer["error"]))
    return Credentials.model_validate(answer)


def failure(body, headers=JSON_HEADERS, **options) -> Refusal:
    with pytest.raises(Refused) as raised:
        parse(body, headers, **options)
    return raised.value.refusal


def test_a_valid_body_becomes_the_model():
    parsed = parse('{"email": "alice@example.com", "password": "hunter2hunter2"}')

    assert parsed == Credentials(email="alice@example.com", password="hunter2hunter2")


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "application/json"},
        {"CONTENT-TYPE": "Application/JSON; charset=utf-8"},
        {"Content-Type": " application/json ;charset=UTF-8"},
    ],
)
def test_the_content_type_header_is_found_in_any_case_and_may_carry_parameters(headers):
    assert parse('{"email": "a@b.c", "password": "p"}', headers).email == "a@b.c"


def test_a_base64_encoded_body_is_decoded():
    body = base64.b64encode(b'{"email": "a@b.c", "password": "p"}').decode()

    assert parse(body, base64_encoded=True).password == "p"


@pytest.mark.parametrize(
    "headers",
    [
        None,
        {},
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "application/jsonp"},
        {"Content-Type": "application/json-patch+json"},
        {"Content-Type": ""},
    ],
)
def test_a_body_that_is_not_declared_json_is_415(headers):
    error = failure('{"email": "a@b.c", "password": "p"}', headers)

    assert (error.status, error.code) == (415, "unsupported_media_type")


@pytest.mark.parametrize("body", [None, ""])
def test_no_body_is_400_missing_body(body):
    error = failure(body, None)

    assert (error.status, error.code) == (400, "missing_body")


def test_a_base64_body_that_decodes_to_nothing_is_missing():
    assert failure("", base64_encoded=True).code == "missing_body"


def test_a_body_over_the_limit_is_413():
    body = json.dumps({"email": "a@b.c", "password": "p" * MAX_BYTES})

    error = failure(body)

    assert (error.status, error.code) == (413, "payload_too_large")


def test_the_limit_counts_bytes_not_characters():
    # 100 characters, 300 bytes.
    assert failure('{"email": "' + "€" * 100 + '"}').code == "payload_too_large"


def test_a_base64_body_over_the_limit_is_413():
    body = base64.b64encode(b" " * (MAX_BYTES + 1)).decode()

    assert failure(body, base64_encoded=True).code == "payload_too_large"


def test_a_body_of_exactly_the_limit_is_read():
    body = '{"email": "a@b.c", "password": "p"}'
    body = body + " " * (MAX_BYTES - len(body))

    assert parse(body).email == "a@b.c"


@pytest.mark.parametrize(
    "body", ["{", "{'email': 'a'}", '{"email": "a",}', "NaN", '{"email": Infinity}', "[" * 5000 + "]" * 5000]
)
def test_invalid_json_is_400_malformed_json(body):
    error = failure(body, max_bytes=20_000)

    assert (error.status, error.code) == (400, "malformed_json")


def test_invalid_utf8_is_malformed_json():
    body = base64.b64encode(b'{"email": "\xff\xfe"}').decode()

    assert failure(body, base64_encoded=True).code == "malformed_json"


def test_invalid_base64_is_malformed_json():
    assert failure("not base64 at all!", base64_encoded=True).code == "malformed_json"


@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null", "true", '[{"email": "a@b.c"}]'])
def test_a_top_level_that_is_not_an_object_is_400_invalid_body(body):
    error = failure(body)

    assert (error.status, error.code) == (400, "invalid_body")


def test_unknown_fields_are_rejected_by_name():
    error = failure('{"email": "a@b.c", "password": "p", "role": "admin"}')

    assert error.code == "invalid_body"
    assert error.details == [{"field": "role", "issue": "Extra inputs are not permitted"}]


def test_missing_and_mistyped_fields_are_listed():
    error = failure('{"password": 12345678}')

    assert {detail["field"] for detail in error.details} == {"email", "password"}


def test_a_rejected_password_is_never_echoed():
    secret_password = "Sup3r-Secret-Passw0rd-" + "x" * 20  # over the model's 32 characters
    body = json.dumps({"email": "a@b.c", "password": secret_password, "also": secret_password})

    error = failure(body)

    assert error.code == "invalid_body"
    assert secret_password not in json.dumps(error.details)
    assert secret_password not in error.message


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=400))
def test_arbitrary_bytes_only_ever_raise_our_4xx_errors(body):
    encoded = base64.b64encode(body).decode()
    try:
        parse(encoded, base64_encoded=True)
    except Refused as refused:
        assert 400 <= refused.refusal.status < 500


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.one_of(st.text(max_size=400), json_values.map(json.dumps)),
    content_type=st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", None]),
)
def test_arbitrary_text_only_ever_raises_our_4xx_errors(body, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    try:
        parse(body, headers)
    except Refused as refused:
        assert refused.refusal.status in (400, 413, 415)


def test_a_name_given_twice_is_refused_not_resolved():
    error = failure('{"email": "alice@example.com", "email": "admin@example.com", "password": "x"}')

    assert (error.status, error.code) == (400, "invalid_body")
    assert error.details == [{"field": "email", "issue": "appears more than once"}]


def test_a_name_given_twice_in_a_nested_object_is_refused_too():
    error = failure('{"email": {"a": 1, "a": 2}, "password": "x"}')

    assert error.code == "invalid_body" and error.details[0]["field"] == "a"
