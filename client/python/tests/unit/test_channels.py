"""Addresses, channel targets and the reconnect backoff, as the TypeScript client has them."""

import pytest

from voxelfeed import FeedClient, FeedError, ReconnectPolicy
from voxelfeed.channels import address_problem, channel_targets
from voxelfeed.reconnect import backoff_delay_s


@pytest.mark.parametrize("address", ["127.0.0.1:50051", "[::1]:1", "voxelfeed.svc:65535", "dns:///feed:80"])
def test_good_addresses(address):
    assert address_problem(address) is None


@pytest.mark.parametrize(
    "address, problem",
    [
        ("127.0.0.1", "expected HOST:PORT"),
        ("::1:50051", "put an IPv6 address in brackets"),
        ("host:70000", "port 70000 is out of range"),
        ("a:1,b:2", "list each replica separately"),
    ],
)
def test_bad_addresses_say_what_is_wrong(address, problem):
    assert problem in address_problem(address)


def test_ip_literals_share_one_balanced_channel_and_names_get_their_own():
    assert channel_targets(["10.0.0.1:1", "10.0.0.2:2"]) == [("ipv4:10.0.0.1:1,10.0.0.2:2", "10.0.0.1:1, 10.0.0.2:2")]
    assert channel_targets(["a:1", "10.0.0.2:2"]) == [("a:1", "a:1"), ("10.0.0.2:2", "10.0.0.2:2")]


def test_backoff_caps_double_up_to_the_maximum():
    policy = ReconnectPolicy(100, 5000, 20)
    caps = [round(backoff_delay_s(f, policy, 1 - 2**-40) * 1000) + 1 for f in [1, 2, 3, 4, 5, 6, 7, 30]]
    assert caps == [100, 200, 400, 800, 1600, 3200, 5000, 5000]
    assert backoff_delay_s(3, policy, 0.0) == 0


def test_bad_client_options_are_all_reported_before_any_connection():
    with pytest.raises(FeedError) as caught:
        FeedClient("localhost", prefetch=0, reconnect=ReconnectPolicy(0, 10, 0), token="a\nb",
                   tls={"cert": b"x"})
    details = caught.value.details
    for text in ('address "localhost"', "prefetch is 0", "reconnect.initial_backoff_ms is 0",
                 "reconnect.max_attempts is 0", "token is empty or holds a line break", "a cert without a key"):
        assert text in details, text
