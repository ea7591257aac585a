"""Input rules that pydantic runs, and how a broken rule becomes our 400.

A field type here validates *and* documents itself: its JSON schema (what /openapi.json shows) comes
from the same numbers its check uses. A rule that fails raises `rejected(code, issue)`, which carries
our error code through pydantic (and Powertools) to the one error mapping, so a request hears
`invalid_date` or `unknown_location` rather than pydantic's own error names.

Query strings have no types of their own, so these rules read text strictly: one spelling per value
("7", never "07", "+7" or " 7"; `true|yes|1` and `false|no|0` for flags), and an empty value counts
as absent (the field's default).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError
from pydantic_core import PydanticCustomError, PydanticUseDefault, core_schema

from farewatch.errors import InvalidRequest

RULE_ERROR_TYPE = "farewatch_rule"
"""The pydantic error type of every rule of ours; the error code travels in its context."""

INVALID_PARAMETER = "invalid_parameter"

# Canonical decimal integers only: no sign on zero, no leading zeros, no spaces, no "+", ASCII digits.
_CANONICAL_INT = re.compile(r"0|-?[1-9][0-9]{0,17}")
_TRUE_WORDS = frozenset({"1", "true", "yes"})
_FALSE_WORDS = frozenset({"0", "false", "no"})
_MAX_FIELD_CHARS = 100


def rejected(code: str, issue: str) -> PydanticCustomError:
    """A broken rule, as pydantic reports it: `issue` is the human text, `code` our error code."""
    # Braces would be read as template fields by pydantic; an issue never needs them.
    return PydanticCustomError(RULE_ERROR_TYPE, issue.replace("{", "(").replace("}", ")"), {"code": code})


def absent_if_empty(value: Any) -> Any:
    """An empty query value counts as absent: the field's default applies."""
    if value == "":
        raise PydanticUseDefault()
    return value


class _EmptyMeansDefault:
    """Documents what `absent_if_empty` accepts: the field's own schema, or an empty string."""

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return {"anyOf": [handler(schema), {"type": "string", "maxLength": 0}]}


@dataclass(frozen=True)
class WholeNumber(_EmptyMeansDefault):
    """`Annotated[int, WholeNumber(1, 50)]`: an integer in [minimum, maximum], canonical if text."""

    minimum: int
    maximum: int

    def check(self, value: Any) -> int:
        issue = f"must be a whole number from {self.minimum} to {self.maximum}"
        if isinstance(value, str):
            if not _CANONICAL_INT.fullmatch(value):
                raise rejected(INVALID_PARAMETER, issue)
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not self.minimum <= value <= self.maximum:
            raise rejected(INVALID_PARAMETER, issue)
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_before_validator_function(
            lambda value: self.check(absent_if_empty(value)),
            core_schema.int_schema(ge=self.minimum, le=self.maximum),
        )


@dataclass(frozen=True)
class YesNo(_EmptyMeansDefault):
    """`Annotated[bool, YesNo()]`: `1|true|yes` or `0|false|no` in any case; anything else is a 400."""

    def check(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        word = value.lower() if isinstance(value, str) else None
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        raise rejected(INVALID_PARAMETER, "must be one of 1, true, yes, 0, false or no")

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_before_validator_function(
            lambda value: self.check(absent_if_empty(value)), core_schema.bool_schema()
        )


@dataclass(frozen=True)
class OneOf(_EmptyMeansDefault):
    """`Annotated[str, OneOf("price", "duration")]`: one of the words (`any_case`: in any case)."""

    words: tuple[str, ...]
    any_case: bool = False

    def check(self, value: Any) -> str:
        word = value.lower() if isinstance(value, str) and self.any_case else value
        if word not in self.words:
            raise rejected(INVALID_PARAMETER, f"must be {' or '.join(self.words)}")
        return str(word)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_before_validator_function(
            lambda value: self.check(absent_if_empty(value)), core_schema.literal_schema(list(self.words))
        )


@dataclass(frozen=True, eq=False)
class TextRule:
    """`Annotated[T, TextRule(check, schema)]`: text that `check` turns into a value, or refuses.

    `schema` is what the value is once checked, and what the OpenAPI document shows (e.g. a string
    with a pattern, or a date); `check` is the rule itself, raising `rejected()`. An empty value is
    handed to `check` too: only it knows whether the field may be absent.
    """

    check: Callable[[str], Any]
    schema: core_schema.CoreSchema
    optional: bool = False  # `check` turns an empty value into the default: the document says so

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        documented = handler(schema)
        return {"anyOf": [documented, {"type": "string", "maxLength": 0}]} if self.optional else documented

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        def validate(value: Any) -> Any:
            if not isinstance(value, str):
                raise rejected(INVALID_PARAMETER, "must be text")
            return self.check(value)

        return core_schema.no_info_before_validator_function(validate, self.schema)


@dataclass(frozen=True)
class Problem:
    """One field's 400: which field, our error code, and the human issue (never the value sent)."""

    field: str
    code: str
    issue: str


def problem_of(error: Mapping[str, Any], *, field: str, default: str, missing: str) -> Problem:
    """A pydantic error as our Problem: a rule's own code, else `missing` or `default`."""
    kind = error.get("type")
    if kind == RULE_ERROR_TYPE:
        code = str((error.get("ctx") or {}).get("code") or default)
    else:
        code = missing if kind == "missing" else default
    issue = "is required" if kind == "missing" else str(error.get("msg") or "is invalid")
    return Problem(field[:_MAX_FIELD_CHARS] or "request", code, issue)


def field_name(location: Sequence[Any], *, fallback: str) -> str:
    """`limit` for ("limit",), `history.0` for ("history", 0); `fallback` for an empty location."""
    return ".".join(str(part) for part in location) or fallback


ModelT = TypeVar("ModelT", bound=BaseModel)


def validated(model: type[ModelT], values: Mapping[str, object]) -> ModelT:
    """`values` (None meaning absent) as `model`, or one 400 listing every field that is wrong."""
    try:
        return model.model_validate({name: value for name, value in values.items() if value is not None})
    except ValidationError as error:
        problems = [
            problem_of(
                problem,
                field=field_name(problem["loc"], fallback="query"),
                default=INVALID_PARAMETER,
                missing="missing_parameter",
            )
            for problem in error.errors(include_input=False, include_url=False)
        ]
        raise invalid_request(problems) from None


def invalid_request(problems: Sequence[Problem], *, message: str | None = None) -> InvalidRequest:
    """One 400 listing every problem, with the code of the first."""
    details = [{"field": problem.field, "issue": problem.issue} for problem in problems]
    text = message or "; ".join(f"{problem.field}: {problem.issue}" for problem in problems)
    code = problems[0].code if problems else INVALID_PARAMETER
    return InvalidRequest(text or "The request is not valid.", code=code, details=details)
