"""`bind_listeners`: the port is bound before anything else, and a bind that fails is one line
naming what is wrong and what to do."""

from __future__ import annotations

import socket

import pytest

from domain.errors import ConfigurationError
from entrypoints.http_workers import bind_listeners


def test_a_port_in_use_names_the_port_and_the_way_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ConfigurationError) as refused:
            bind_listeners("127.0.0.1", port)
    assert refused.value.message == (
        f"port {port} is already in use on 127.0.0.1: stop the server using it or pass"
        " another --port")


def test_a_listener_in_time_wait_does_not_count_as_in_use() -> None:
    """A server restarted right after it stopped gets its port back (SO_REUSEADDR), as
    uvicorn's own bind did."""
    first = bind_listeners("127.0.0.1", 0)
    port = first[0].getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = first[0].accept()
    accepted.close()  # the server closes first: its side of the connection is in TIME_WAIT
    client.close()
    first[0].close()
    again = bind_listeners("127.0.0.1", port)
    assert again[0].getsockname()[1] == port
    again[0].close()


@pytest.mark.parametrize(("host", "says"), [
    ("192.0.2.1", "--host '192.0.2.1' is not an address of this machine"),
    ("no-such-host.invalid", "--host 'no-such-host.invalid' is not an address of this machine"),
])
def test_a_host_that_is_not_ours_is_refused_by_name(host: str, says: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        bind_listeners(host, 0)
    assert refused.value.message.startswith(says)


def test_localhost_is_served_on_every_address_it_names() -> None:
    listeners = bind_listeners("localhost", 0)
    try:
        families = {sock.family for sock in listeners}
        assert socket.AF_INET in families
        assert all(sock.getsockname()[1] for sock in listeners)
    finally:
        for sock in listeners:
            sock.close()
