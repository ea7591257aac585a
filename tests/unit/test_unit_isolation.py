"""The unit suite's own rule, checked: a unit test can open no socket and start no process."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest


def test_a_unit_test_cannot_open_a_socket() -> None:
    with pytest.raises(AssertionError, match="open a socket"):
        socket.create_connection(("127.0.0.1", 9), timeout=0.1)


def test_a_unit_test_cannot_listen_on_a_port() -> None:
    with socket.socket() as listener, pytest.raises(AssertionError, match="open a socket"):
        listener.bind(("127.0.0.1", 0))


def test_a_unit_test_cannot_start_a_process() -> None:
    with pytest.raises(AssertionError, match="start a process"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)
