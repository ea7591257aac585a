"""Unit tests are pure: no socket, no process. Every unit test runs with both refused, so one that
needs a server or a subprocess fails here and belongs in tests/integration or tests/e2e."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest


def _refused(what: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a unit test tried to {what}; move it to tests/integration or tests/e2e")

    return refuse


@pytest.fixture(autouse=True)
def _no_sockets_and_no_processes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for method in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, method, _refused(f"open a socket ({method})"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refused("start a process"))
    yield
