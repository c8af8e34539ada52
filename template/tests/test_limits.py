"""Vercel's limits, met here first: a request body over 4.5 MB is refused with a JSON 413."""

import io
import json

import pytest

VERCEL_BODY_LIMIT = 4_500_000  # bytes: Vercel refuses larger bodies before the function runs


@pytest.mark.parametrize("path", ["/api/items", "/api/health", "/"])
def test_a_body_over_the_limit_is_a_413_on_every_route(client, path):
    response = client.post(path, data=b"x" * (VERCEL_BODY_LIMIT + 1), content_type="application/json")
    assert response.status_code == 413
    body = response.get_json()
    assert body["error"] == "Request Entity Too Large"
    assert "larger than 4.5 MB" in body["message"]
    assert "straight to storage" in body["message"]


def test_a_body_of_exactly_the_limit_reaches_the_route(client):
    body = json.dumps({"name": ""}).replace('""', '"' + "x" * (VERCEL_BODY_LIMIT - 12) + '"')
    assert len(body) == VERCEL_BODY_LIMIT
    response = client.post("/api/items", data=body, content_type="application/json")
    assert response.status_code == 400  # the route's own answer (the name is too long), not a 413
    assert "longer than" in response.get_json()["message"]


def test_a_body_sent_without_a_length_is_cut_at_the_limit_too(client):
    """Chunked uploads declare no Content-Length: Flask stops reading at the limit."""
    stream = io.BytesIO(b'{"name": "' + b"x" * VERCEL_BODY_LIMIT + b'"}')
    response = client.post(
        "/api/items",
        input_stream=stream,
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert "larger than 4.5 MB" in response.get_json()["message"]
