"""Telling travellers: the mails Farewatch writes, SES, signed webhooks with their SSRF guard, and the
notifier that delivers each (alert, channel) once."""
