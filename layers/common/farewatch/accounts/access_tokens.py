"""Access tokens: short-lived HS256 JWTs, issued and verified here with `alg` pinned and time from a Clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from farewatch.clock import Clock
from farewatch.errors import Unauthorized

ALGORITHM = "HS256"
ACCESS_TYP = "access"
REQUIRED_CLAIMS = ("iss", "aud", "sub", "iat", "exp", "jti", "role", "typ")


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says. The role is informative only: callers re-read it from the user."""

    user_id: str
    role: str
    token_id: str
    issued_at: int
    expires_at: int
    generation: int = 0  # the user's token generation when issued; a reset or a reuse moves it on


class AccessTokenSigner:
    def __init__(
        self,
        key_provider: Callable[[], str],
        *,
        issuer: str,
        audience: str,
        ttl_seconds: int,
        clock: Clock,
    ) -> None:
        self._key = key_provider
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        self.ttl_seconds = ttl_seconds

    def issue(self, *, user_id: str, role: str, generation: int = 0) -> str:
        issued_at = int(self._clock.now())
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": user_id,
            "iat": issued_at,
            "exp": issued_at + self.ttl_seconds,
            "jti": uuid.uuid4().hex,
            "role": role,
            "typ": ACCESS_TYP,
            "gen": generation,
        }
        return jwt.encode(claims, self._key(), algorithm=ALGORITHM)

    def verify(self, token: str) -> AccessClaims:
        """The claims of a token we signed and that has not expired; otherwise 401, saying no more."""
        try:
            claims = jwt.decode(
                token,
                self._key(),
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=0,
                # Time is checked below against the injected clock; PyJWT would use the wall clock.
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_signature": True,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError:
            raise invalid_token() from None
        return self._checked(claims)

    def _checked(self, claims: dict[str, Any]) -> AccessClaims:
        issued_at, expires_at = claims["iat"], claims["exp"]
        subject, role, token_id = claims["sub"], claims["role"], claims["jti"]
        if not (_is_number(issued_at) and _is_number(expires_at)):
            raise invalid_token()
        if not all(isinstance(value, str) and value for value in (subject, role, token_id)):
            raise invalid_token()
        if claims["typ"] != ACCESS_TYP:
            raise invalid_token()
        # A token that claims to live longer than we issue them for was not made by us as we are now.
        if expires_at - issued_at > self.ttl_seconds:
            raise invalid_token()
        generation = claims.get("gen", 0)
        if not isinstance(generation, int) or isinstance(generation, bool) or generation < 0:
            raise invalid_token()
        now = self._clock.now()
        if "nbf" in claims and (not _is_number(claims["nbf"]) or claims["nbf"] > now):
            raise invalid_token()
        if now >= expires_at:
            raise Unauthorized("The access token has expired; refresh it.", code="token_expired")
        return AccessClaims(
            user_id=subject,
            role=role,
            token_id=token_id,
            issued_at=int(issued_at),
            expires_at=int(expires_at),
            generation=generation,
        )


def invalid_token() -> Unauthorized:
    return Unauthorized("The access token is not valid.", code="invalid_token")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
