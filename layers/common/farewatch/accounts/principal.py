"""The caller of a request, as the API layer sees it once the access token and the user are checked."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """The caller of a request, with the role as the user record has it now."""

    user_id: str
    role: str
    token_id: str
