"""Outbound webhooks: the SSRF guard and the signed delivery (Standard Webhooks, `standardwebhooks`).

The guard runs twice. When an endpoint is added, its URL must be https (plain http only with the
local-only loopback allowance), carry no credentials, and its host must resolve only to public
addresses. At every delivery the connection itself resolves the host again and refuses before
connecting if any address is loopback, private, link-local (169.254.169.254 included), multicast,
reserved or otherwise not global, then connects to the address it checked: a DNS answer that
changes between the check and the connection (rebinding) cannot slip through. Redirects are never
followed, proxies from the environment are never used, and connect and read time out.

No maintained library does this for requests with urllib3 2 (advocate, the known one, stopped in
2020 and patches urllib3 1.x internals), so the guard is these few classes on urllib3's own hooks.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from standardwebhooks import Webhook
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

Resolver = Callable[[str, int], list[str]]
USER_AGENT = "Farewatch-Webhooks/1"
MAX_ERROR_CHARS = 200


class UrlRefused(Exception):
    """The URL or an address its host resolves to may not be called; the message says why."""


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refusal(address: str, *, allow_loopback: bool) -> str | None:
    """Why this address may not be called, or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    for label, flagged in (
        ("an unspecified address", ip.is_unspecified),
        ("a link-local address", ip.is_link_local),
        ("a private address", ip.is_private),
        ("a multicast address", ip.is_multicast),
        ("a reserved address", ip.is_reserved),
    ):
        if flagged:
            return label
    return None if ip.is_global else "an address that is not public"


@dataclass(frozen=True)
class GuardPolicy:
    allow_http_loopback: bool = False  # local stack only
    resolver: Resolver = system_resolver

    def check_addresses(self, host: str, port: int, *, loopback_ok: bool) -> list[str]:
        try:
            addresses = [str(ipaddress.ip_address(host.strip("[]")))]  # a literal needs no lookup
        except ValueError:
            addresses = self._resolve(host, port)
        for address in addresses:
            why = refusal(address, allow_loopback=loopback_ok)
            if why is not None:
                raise UrlRefused(f"the host {host} resolves to {why}")
        return addresses

    def _resolve(self, host: str, port: int) -> list[str]:
        try:
            addresses = self.resolver(host, port)
        except OSError as error:
            raise UrlRefused(f"the host {host} does not resolve") from error
        if not addresses:
            raise UrlRefused(f"the host {host} does not resolve")
        return addresses

    def check_url(self, url: str) -> None:
        """Refuse a URL that must never be called (raised as UrlRefused with the reason)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise UrlRefused("it is not a valid URL") from error
        host = parts.hostname
        if parts.scheme not in ("https", "http") or not host:
            raise UrlRefused("it must be an https:// URL")
        if parts.username is not None or parts.password is not None:
            raise UrlRefused("it must not carry a user name or password")
        loopback_ok = False
        if parts.scheme == "http":
            if not self.allow_http_loopback:
                raise UrlRefused("it must be an https:// URL")
            loopback_ok = True
        addresses = self.check_addresses(
            host, port or (443 if parts.scheme == "https" else 80), loopback_ok=loopback_ok
        )
        if parts.scheme == "http" and not all(
            ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses
        ):
            raise UrlRefused("plain http is allowed for a loopback receiver only")


def _guarded_connection(base: type[HTTPConnection], policy: GuardPolicy, *, loopback_ok: bool) -> type:
    class Guarded(base):  # type: ignore[valid-type,misc]
        def _new_conn(self) -> socket.socket:
            try:
                addresses = policy.check_addresses(self._dns_host, self.port, loopback_ok=loopback_ok)
            except UrlRefused as error:
                raise NewConnectionError(self, f"refused: {error}") from None
            last: OSError | None = None
            for address in addresses:  # every one was checked; connect to exactly these
                try:
                    sock = socket.create_connection((address, self.port), self.timeout)
                except OSError as error:
                    last = error
                    continue
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            raise NewConnectionError(self, f"Failed to establish a new connection: {last}")

    return Guarded


class GuardedAdapter(HTTPAdapter):
    """requests' adapter whose connections resolve and check the host at connect time."""

    def __init__(self, policy: GuardPolicy) -> None:
        self._policy = policy
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        policy = self._policy

        class HttpPool(HTTPConnectionPool):
            ConnectionCls = _guarded_connection(
                HTTPConnection, policy, loopback_ok=policy.allow_http_loopback
            )

        class HttpsPool(HTTPSConnectionPool):
            ConnectionCls = _guarded_connection(HTTPSConnection, policy, loopback_ok=False)

        self.poolmanager.pool_classes_by_scheme = {"http": HttpPool, "https": HttpsPool}
        self.poolmanager.key_fn_by_scheme = dict(self.poolmanager.key_fn_by_scheme)


def guarded_session(policy: GuardPolicy) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies or netrc from the environment
    adapter = GuardedAdapter(policy)
    session.mount("https://", adapter)
    session.mount("http://", adapter if policy.allow_http_loopback else _Refuse())
    return session


class _Refuse(HTTPAdapter):
    def send(self, *args: Any, **kwargs: Any) -> requests.Response:
        raise requests.ConnectionError("refused: plain http is not allowed")


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    status: int | None
    duration_ms: int
    error: str | None = None


def webhook_message_id(alert_id: str, endpoint_id: str) -> str:
    """The `webhook-id` of one alert to one endpoint: the same on every retry, so receivers dedupe."""
    return f"msg_{alert_id}_{endpoint_id}"


class WebhookSender:
    def __init__(
        self,
        session: requests.Session,
        *,
        policy: GuardPolicy,
        connect_timeout: float,
        read_timeout: float,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._policy = policy
        self._timeouts = (connect_timeout, read_timeout)
        self._now = now

    def deliver(self, *, url: str, secret: str, message_id: str, body: dict[str, Any]) -> DeliveryResult:
        """One signed POST; any 2xx is a success. Never raises for what the receiver does."""
        data = json.dumps(body, separators=(",", ":"))
        sent_at = self._now()
        signature = Webhook(secret).sign(message_id, datetime.fromtimestamp(sent_at, UTC), data)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(int(sent_at)),
            "webhook-signature": signature,
        }
        started = time.monotonic()
        try:
            self._policy.check_url(url)
            response = self._session.post(
                url, data=data.encode(), headers=headers, timeout=self._timeouts, allow_redirects=False
            )
        except UrlRefused as error:
            return DeliveryResult(False, None, _ms(started), f"refused: {error}"[:MAX_ERROR_CHARS])
        except requests.Timeout:
            return DeliveryResult(False, None, _ms(started), "timed out")
        except requests.RequestException as error:
            reason = str(error)
            text = (
                "refused: " + reason.split("refused: ", 1)[1]
                if "refused: " in reason
                else "could not connect"
            )
            return DeliveryResult(False, None, _ms(started), text[:MAX_ERROR_CHARS])
        status = response.status_code
        response.close()
        if 200 <= status < 300:
            return DeliveryResult(True, status, _ms(started))
        if 300 <= status < 400:
            return DeliveryResult(False, status, _ms(started), "redirect not followed")
        return DeliveryResult(False, status, _ms(started), f"HTTP {status}")


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
