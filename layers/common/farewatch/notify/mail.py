"""The mails Farewatch writes (plain text and HTML, no remote images) and the SES v2 sender.

A `Mail` is built here from plain values and becomes one MIME message (multipart/alternative), sent
through SES v2 as raw content so that its own headers travel with it: RFC 8058's
`List-Unsubscribe` and `List-Unsubscribe-Post` on price mails. SES adds nothing a reader relies on.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from farewatch.accounts.mailing import AccountMessage
from farewatch.locations import find_location
from farewatch.tracking.events import PriceDropDetected

ARROW = "\u2192"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)

    def to_mime(self, sender: str) -> bytes:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = self.to
        message["Subject"] = self.subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "farewatch.local")
        for name, value in self.headers.items():
            message[name] = value
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        return message.as_bytes()


def _place(code: str) -> str:
    location = find_location(code)
    return f"{location.city} ({code})" if location is not None and location.city else code


def _day(iso: str) -> str:
    try:
        return date.fromisoformat(iso).strftime("%-d %b %Y")
    except ValueError:
        return iso


def _short_day(iso: str) -> str:
    try:
        return date.fromisoformat(iso).strftime("%-d %b")
    except ValueError:
        return iso


def _money(amount: str | None, currency: str) -> str:
    """$240 or $240.50 (USD), 240.50 EUR otherwise; whole amounts without cents, as people write them."""
    if amount is None:
        return "-"
    shown = amount.removesuffix(".00")
    return f"${shown}" if currency == "USD" else f"{shown} {currency}"


def _page(
    title: str, paragraphs: list[str], *, button: tuple[str, str] | None = None, footer: str = ""
) -> str:
    """A small HTML mail: inline styles only, no images, no scripts."""
    body = "".join(f'<p style="margin:0 0 12px">{paragraph}</p>' for paragraph in paragraphs)
    if button is not None:
        label, url = button
        body += (
            f'<p style="margin:16px 0"><a href="{html.escape(url)}" style="background:#1d4ed8;color:#fff;'
            f'padding:10px 16px;border-radius:6px;text-decoration:none">{html.escape(label)}</a></p>'
        )
    if footer:
        body += f'<p style="margin:24px 0 0;color:#555;font-size:12px">{footer}</p>'
    return (
        '<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#111;max-width:560px">'
        f'<h1 style="font-size:20px">{html.escape(title)}</h1>{body}</body></html>'
    )


def _trip_details(event: PriceDropDetected) -> str:
    """E.g. "business, at most 1 stop": what the trip asks beyond a one-way economy fare with any stops."""
    parts = []
    if event.cabin and event.cabin != "economy":
        parts.append(event.cabin.replace("_", " "))
    if event.max_stops is not None:
        parts.append(
            "nonstop"
            if event.max_stops == 0
            else f"at most {event.max_stops} stop{'s' * (event.max_stops > 1)}"
        )
    return ", ".join(parts)


def _judgement(event: PriceDropDetected) -> str | None:
    """E.g. "This price is low for this trip (typical $280-$340).", when our own observations say so."""
    insight = event.insight
    if insight is None or insight.level == "unknown":
        return None
    typical = ""
    if insight.typical_low is not None and insight.typical_high is not None:
        low, high = _money(insight.typical_low, event.currency), _money(insight.typical_high, event.currency)
        typical = f" (typical {low}-{high})"
    return f"This price is {insight.level} for this trip{typical}."


def price_drop_mail(event: PriceDropDetected, *, to: str, tracker_url: str, unsubscribe_url: str) -> Mail:
    """The alert: route with city names, date, new and previous price, target, lowest, tracker link."""
    cur = event.currency
    route = f"{event.origin} {ARROW} {event.destination}"
    was = f" (was {_money(event.previous_price, cur)})" if event.previous_price else ""
    subject = f"{route} {_short_day(event.departure_date)}: {_money(event.price, cur)}{was}"
    trip = f"{_place(event.origin)} {ARROW} {_place(event.destination)}, {_day(event.departure_date)}"
    if event.return_date:
        trip += f", back {_day(event.return_date)}"
    details = _trip_details(event)
    if details:
        trip += f" ({details})"
    why = "reached your target" if event.kind == "target_reached" else "dropped"
    lines = [
        ("New price", _money(event.price, cur)),
        ("Previous price", _money(event.previous_price, cur)),
        ("Your target", _money(event.target_price, cur)),
        ("Lowest seen", _money(event.lowest_price, cur)),
    ]
    judged = _judgement(event)
    # A flexible tracker: the day of its window that won (the trip above departs on it).
    flexible = (
        f"The cheapest day of your flexible dates: {_day(event.best_date)}." if event.best_date else None
    )
    book = f"Book from {_money(event.price, cur)}" if event.booking_url else None
    text = "\n".join(
        [
            f"The fare for {trip} {why}.",
            *([flexible] if flexible else []),
            *([judged] if judged else []),
            "",
            *(f"{label + ':':<16}{value}" for label, value in lines),
            "",
            *([f"{book}: {event.booking_url}", ""] if book else []),
            f"See or change the tracker: {tracker_url}",
            "",
            f"Stop price emails: {unsubscribe_url}",
        ]
    )
    rows = "".join(
        f'<tr><td style="padding:2px 12px 2px 0;color:#555">{label}</td>'
        f"<td><b>{html.escape(value)}</b></td></tr>"
        for label, value in lines
    )
    page = _page(
        subject,
        [
            f"The fare for {html.escape(trip)} {why}.",
            *([html.escape(flexible)] if flexible else []),
            *([html.escape(judged)] if judged else []),
            f'<table style="border-collapse:collapse">{rows}</table>',
            *(
                [f'<a href="{html.escape(event.booking_url)}">{html.escape(book)}</a> (live price there)']
                if book and event.booking_url
                else []
            ),
        ],
        button=("See or change the tracker", tracker_url),
        footer="You get this because you track this flight. "
        f'<a href="{html.escape(unsubscribe_url)}">Stop price emails</a>.',
    )
    headers = {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return Mail(to=to, subject=subject, text=text, html=page, headers=headers)


def account_mail(message: AccountMessage, *, public_url: str, valid_hours: float) -> Mail:
    """Verification, "someone tried to register", password reset."""
    if message.kind == "verify_email":
        link = f"{public_url}/verify-email?token={message.token}"
        text = (
            "Welcome to Farewatch. Confirm your email address so that price alerts can reach you:\n\n"
            f"{link}\n\nThe link works once, for {valid_hours:g} hours. "
            "If you did not sign up, ignore this mail."
        )
        page = _page(
            "Confirm your email address",
            ["Welcome to Farewatch. Confirm your address so that price alerts can reach you."],
            button=("Confirm my address", link),
            footer=f"The link works once, for {valid_hours:g} hours. "
            "If you did not sign up, ignore this mail.",
        )
        return Mail(message.email, "Confirm your email address for Farewatch", text, page)
    if message.kind == "password_reset":
        link = f"{public_url}/reset-password?token={message.token}"
        minutes = round(valid_hours * 60)
        text = (
            "Someone (hopefully you) asked to reset your Farewatch password. Choose a new one here:\n\n"
            f"{link}\n\nThe link works once, for {minutes} minutes. Resetting signs you out everywhere. "
            "If you did not ask, ignore this mail: your password stays as it is."
        )
        page = _page(
            "Reset your password",
            ["Someone (hopefully you) asked to reset your Farewatch password."],
            button=("Choose a new password", link),
            footer=f"The link works once, for {minutes} minutes. If you did not ask, ignore this mail.",
        )
        return Mail(message.email, "Reset your Farewatch password", text, page)
    sign_in = f"{public_url}/sign-in"
    text = (
        "Someone tried to create a Farewatch account with this address, which already has one. "
        f"If it was you, sign in instead: {sign_in}\n\nIf it was not you, nothing changed; "
        "you can ignore this mail."
    )
    page = _page(
        "Someone tried to register with your address",
        [
            "Someone tried to create a Farewatch account with this address, which already has one.",
            "If it was not you, nothing changed; you can ignore this mail.",
        ],
        button=("Sign in", sign_in),
    )
    return Mail(message.email, "Someone tried to register with your address", text, page)


def webhook_disabled_mail(*, to: str, url: str, public_url: str) -> Mail:
    text = (
        f"Farewatch could not deliver to your webhook {url} for about a day, so it is now disabled "
        "and gets no more deliveries. Fix the receiver, then add it again "
        f"(POST /webhooks) with the API at {public_url}."
    )
    page = _page(
        "Your webhook is disabled",
        [
            f"Farewatch could not deliver to your webhook <code>{html.escape(url)}</code> for about a day, "
            "so it is now disabled and gets no more deliveries.",
            "Fix the receiver, then add it again (POST /webhooks).",
        ],
    )
    return Mail(to, "Your Farewatch webhook is disabled", text, page)


class SesMailer:
    """SES v2 SendEmail with raw content, through the configuration set whose bounces suppress."""

    def __init__(self, client: Any, *, sender: str, configuration_set: str | None) -> None:
        self._client = client
        self._sender = sender
        self._configuration_set = configuration_set

    def send(self, mail: Mail) -> str:
        if not self._sender:
            raise RuntimeError("MailSender is not set: no mail can be sent (README 'SES for sam deploy')")
        request: dict[str, Any] = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": [mail.to]},
            "Content": {"Raw": {"Data": mail.to_mime(self._sender)}},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        return str(self._client.send_email(**request)["MessageId"])
