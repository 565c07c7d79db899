"""The dashboard answers its own host names only, its login goes back to local paths only, and a restart keeps
the session (the running dashboard over real HTTP is tested in tests/e2e/test_dashboard.py)."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from healops.dashboard import create_app
from healops.dashboard.__main__ import ensure_secret, session_secret_file

TOKEN = "test-write-token"


def app_with(secret: str = "s" * 32) -> Flask:
    # No stack behind it: the login and the host check need none.
    return create_app(
        {"TESTING": True, "WRITE_TOKEN": TOKEN, "SECRET_KEY": secret, "ENDPOINT_URL": "http://127.0.0.1:9"}
    )


def sign_in(client: Any, next_path: str) -> Any:
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return client.post("/login", data={"token": TOKEN, "csrf_token": csrf, "next": next_path})


@pytest.mark.parametrize("host", ["127.0.0.1:8050", "localhost:8050", "localhost", "[::1]:8050"])
def test_the_dashboards_own_host_names_are_served(host: str) -> None:
    assert app_with().test_client().get("/login", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8050", "127.0.0.1.nip.io:8050", "localhost.evil.example"]
)
def test_a_foreign_host_name_gets_400(host: str) -> None:
    response = app_with().test_client().get("/login", headers={"Host": host})
    assert response.status_code == 400 and "not this dashboard" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "//evil.example",
        "\\/evil.example",
        "/\\evil.example",
        "/%09/evil.example",
        "/%2F/evil.example",
        "/%5C/evil.example",
        "https://evil.example/",
        "http:/evil.example",
        " //evil.example",
        "/\n/evil.example",
        "javascript:alert(1)",
    ],
)
def test_login_next_that_is_not_a_local_path_lands_on_the_overview(target: str) -> None:
    response = sign_in(app_with().test_client(), target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/incidents", "/incidents/inc-1?tab=trace", "/services/checkout"])
def test_login_next_that_is_a_local_path_is_followed(target: str) -> None:
    response = sign_in(app_with().test_client(), target)
    assert response.status_code == 302 and response.headers["Location"] == target


def test_the_session_secret_is_kept_beside_the_token_private(tmp_path: Path) -> None:
    token_file = tmp_path / "dashboard.token"
    secret_file = session_secret_file(token_file)
    assert secret_file.parent == token_file.parent
    first = ensure_secret(secret_file, nbytes=32)
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600 and len(first) >= 40
    assert ensure_secret(secret_file, nbytes=32) == first


def test_a_restart_does_not_sign_the_writer_out(tmp_path: Path) -> None:
    secret_file = session_secret_file(tmp_path / "dashboard.token")
    before = app_with(ensure_secret(secret_file, nbytes=32)).test_client()
    assert sign_in(before, "/").status_code == 302
    cookie = before.get_cookie("session")
    assert cookie is not None
    after = app_with(ensure_secret(secret_file, nbytes=32)).test_client()  # a new process reads the same file
    after.set_cookie("session", cookie.value)
    assert _is_writer(after)
    elsewhere = app_with("another secret, as every start had before").test_client()
    elsewhere.set_cookie("session", cookie.value)
    assert not _is_writer(elsewhere)


def _is_writer(client: Any) -> bool:
    with client.session_transaction() as session:
        return bool(session.get("writer"))
