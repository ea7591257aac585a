"""The SSRF guard of outbound webhooks: what it refuses when an endpoint is added, and again at
connect time, and that a redirect is never followed."""

from __future__ import annotations

import pytest

from farewatch.notify.webhooks import GuardPolicy, UrlRefused, WebhookSender, guarded_session
from tests.support.webhook_receiver import webhook_receiver

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # any base64 secret


def resolving(table: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        if host in table:
            return table[host]
        raise OSError("unknown host")

    return resolve


AWS = GuardPolicy(resolver=resolving({"public.example": ["93.184.216.34"], "inside.example": ["10.1.2.3"]}))


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://10.0.0.1/hook", "private"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://100.64.0.1/hook", "not public"),
        ("https://inside.example/hook", "private"),
        ("http://public.example/hook", "https"),
        ("https://user:pass@public.example/hook", "user name"),
        ("ftp://public.example/hook", "https"),
        ("https://nowhere.example/hook", "does not resolve"),
        ("not a url", "https"),
    ],
)
def test_the_guard_refuses_urls_that_must_never_be_called(url, why):
    with pytest.raises(UrlRefused) as refused:
        AWS.check_url(url)

    assert why in str(refused.value)


def test_a_public_https_url_is_accepted():
    AWS.check_url("https://public.example:8443/farewatch?x=1")


def test_the_local_allowance_takes_plain_http_to_loopback_only():
    local = GuardPolicy(
        allow_http_loopback=True,
        resolver=resolving({"localhost": ["127.0.0.1", "::1"], "public.example": ["93.184.216.34"]}),
    )

    local.check_url("http://localhost:9000/hook")
    local.check_url("http://127.0.0.1:9000/hook")
    with pytest.raises(UrlRefused, match="loopback receiver only"):
        local.check_url("http://public.example/hook")
    with pytest.raises(UrlRefused, match="loopback"):
        local.check_url("https://127.0.0.1/hook")  # https to loopback stays refused
    with pytest.raises(UrlRefused, match="private"):
        local.check_url("http://10.0.0.1/hook")


def sender(policy: GuardPolicy, read_timeout: float = 5.0) -> WebhookSender:
    return WebhookSender(guarded_session(policy), policy=policy, connect_timeout=2, read_timeout=read_timeout)


def test_a_host_that_resolves_elsewhere_at_connect_time_is_refused_before_connecting():
    # Given a name that resolved to a public address when it was checked, and to a private one now
    answers = iter([["93.184.216.34"], ["10.0.0.5"]])
    policy = GuardPolicy(resolver=lambda host, port: next(answers))

    result = sender(policy).deliver(
        url="https://rebinding.example/hook", secret=SECRET, message_id="msg_1", body={"type": "t"}
    )

    assert not result.ok and result.status is None
    assert result.error is not None and "refused" in result.error and "private" in result.error


def test_a_redirect_is_not_followed_even_to_a_public_address():
    policy = GuardPolicy(allow_http_loopback=True)
    with webhook_receiver() as receiver:
        receiver.redirect_to = "http://169.254.169.254/latest/meta-data/"

        result = sender(policy).deliver(
            url=receiver.url, secret=SECRET, message_id="msg_1", body={"type": "t"}
        )

    assert (result.ok, result.status, result.error) == (False, 307, "redirect not followed")
    assert len(receiver.deliveries) == 1


def test_without_the_local_allowance_plain_http_is_refused_at_send_time_too():
    with webhook_receiver() as receiver:
        result = sender(GuardPolicy()).deliver(
            url=receiver.url, secret=SECRET, message_id="msg_1", body={"type": "t"}
        )

    assert not result.ok and "https" in (result.error or "")
    assert receiver.deliveries == []


def test_a_delivery_is_signed_so_that_the_receiver_verifies_it_with_the_secret_alone():
    policy = GuardPolicy(allow_http_loopback=True)
    with webhook_receiver() as receiver:
        receiver.secret = SECRET

        result = sender(policy).deliver(
            url=receiver.url, secret=SECRET, message_id="msg_42", body={"type": "price_drop.detected"}
        )

    assert result.ok and result.status == 204
    (delivery,) = receiver.deliveries
    assert delivery.verified and delivery.webhook_id == "msg_42"
    assert delivery.body == {"type": "price_drop.detected"}
