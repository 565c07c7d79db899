"""A web page in the user's real browser tries the embedded cloud, as the issue's audit did: it is refused.

The page is served from another origin (127.0.0.1 on another port: a page on any site is no better placed) and
calls DynamoDB ListTables with a made-up signature, the call that listed every table before. The browser sends a
preflight, the cloud answers 403 with no ``Access-Control-Allow-*`` header, and the page's fetch fails.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from healops.local.server import EmbeddedCloud

PAGE = """<!doctype html><html><body><p id="result">pending</p><script>
fetch("ENDPOINT/", {
  method: "POST",
  headers: {
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Target": "DynamoDB_20120810.ListTables",
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAFAKE/20260101/us-east-1/dynamodb/aws4_request, "
      + "SignedHeaders=host, Signature=00"
  },
  body: "{}"
}).then(r => r.text().then(t => { document.getElementById("result").textContent = "answered " + r.status + " " + t; }))
  .catch(e => { document.getElementById("result").textContent = "refused " + e.name; });
</script></body></html>"""


@pytest.fixture(scope="module")
def hostile_page(cloud: EmbeddedCloud) -> Iterator[str]:
    body = PAGE.replace("ENDPOINT", cloud.endpoint_url)

    def app(environ: dict, start_response: Any) -> Any:
        return Response(body, mimetype="text/html")(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()


def test_a_pages_cross_origin_call_to_the_cloud_is_refused(page: Page, hostile_page: str, stack: object) -> None:
    page.goto(hostile_page)
    page.wait_for_function("document.getElementById('result').textContent !== 'pending'", timeout=15000)
    result = page.locator("#result").text_content() or ""
    assert result.startswith("refused"), result  # before: "answered 200 {"TableNames": [...]}"
    assert "TableNames" not in result
