"""Accounts: registration, sign-in, tokens, roles and account deletion (SPEC §2 and §5)."""
