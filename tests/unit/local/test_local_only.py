"""Who the embedded cloud answers: the pure policy (the running endpoint is tested in tests/e2e/test_local_only.py)."""

from __future__ import annotations

import pytest

from healops.local.local_only import LocalOnlyPolicy, RemoteBindError, check_bind_host, is_loopback

POLICY = LocalOnlyPolicy(port=4566)


def environ(host: str = "127.0.0.1:4566", path: str = "/", **headers: str) -> dict[str, str]:
    return {"HTTP_HOST": host, "PATH_INFO": path, "REQUEST_METHOD": "POST", **headers}


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:4566", "localhost:4566", "LOCALHOST:4566", "[::1]:4566", "s3.localhost:4566", "b.s3.localhost:4566"],
)
def test_the_endpoints_own_host_names_are_served(host: str) -> None:
    assert POLICY.refusal(environ(host)) is None


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:4566",  # DNS rebinding: the page's own name, resolved to 127.0.0.1
        "127.0.0.1.evil.example:4566",
        "localhost.evil.example:4566",
        "127.0.0.1:8050",  # another port
        "127.0.0.1",
        "",
        "10.0.0.5:4566",
    ],
)
def test_a_foreign_host_is_refused(host: str) -> None:
    assert "Host" in (POLICY.refusal(environ(host)) or "")


def test_allow_remote_lifts_the_host_check_but_not_the_browser_checks() -> None:
    remote = LocalOnlyPolicy(port=4566, allow_remote=True)
    assert remote.refusal(environ("laptop.lan:4566")) is None
    assert remote.refusal(environ("laptop.lan:4566", HTTP_ORIGIN="http://evil.example")) is not None


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "null",  # a sandboxed iframe or a file:// page
        "http://localhost:8050",  # the dashboard, or any other local port
        "https://127.0.0.1:4566",
        "http://127.0.0.1:4566.evil.example",
        "http://127.0.0.1:4566/x",
    ],
)
def test_a_cross_origin_request_is_refused(origin: str) -> None:
    assert "cross-origin" in (POLICY.refusal(environ(HTTP_ORIGIN=origin)) or "")


@pytest.mark.parametrize("origin", ["http://127.0.0.1:4566", "http://localhost:4566"])
def test_the_endpoints_own_origin_is_served(origin: str) -> None:
    assert POLICY.refusal(environ(HTTP_ORIGIN=origin)) is None


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_a_request_a_browser_marks_as_from_another_site_is_refused(site: str) -> None:
    assert "Sec-Fetch-Site" in (POLICY.refusal(environ(HTTP_SEC_FETCH_SITE=site)) or "")


@pytest.mark.parametrize("path", ["/moto-api/reset", "/moto-api/config", "/moto-api/", "/moto-api/data.json"])
def test_moto_api_is_closed_even_to_the_endpoints_own_host(path: str) -> None:
    assert "/moto-api/" in (POLICY.refusal(environ(path=path)) or "")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_addresses_need_no_flag(host: str) -> None:
    assert is_loopback(host)
    check_bind_host(host, allow_remote=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "laptop.lan"])
def test_a_reachable_address_needs_allow_remote(host: str) -> None:
    with pytest.raises(RemoteBindError, match="--allow-remote"):
        check_bind_host(host, allow_remote=False)
    check_bind_host(host, allow_remote=True)
