"""Email addresses, validated and normalised once: ` Alice@Example.com` and `alice@example.com` are one."""

from __future__ import annotations

from farewatch.errors import InvalidRequest

MAX_LENGTH = 254


def normalise_email(raw: str) -> str:
    """Surrounding whitespace dropped, syntax checked (no DNS lookup), the whole address lower-cased.

    Lower-casing the local part too is deliberate: addresses are unique case-insensitively, and a
    mailbox that distinguishes case is far rarer than a user who types their address differently.
    """
    # email-validator (~50 ms to import) waits for the first address: most requests carry none.
    from email_validator import EmailNotValidError, validate_email

    candidate = raw.strip()
    if not candidate or len(candidate) > MAX_LENGTH:
        raise _invalid_email()
    try:
        checked = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        raise _invalid_email() from None
    return checked.normalized.lower()


def _invalid_email() -> InvalidRequest:
    return InvalidRequest(
        "That is not a valid email address.",
        code="invalid_email",
        details=[{"field": "email", "issue": "not a valid email address"}],
    )
