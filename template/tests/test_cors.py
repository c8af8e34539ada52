"""CORS_ORIGINS: which other sites' pages may call the API from a browser; unset, none may."""

import logging

import pytest

ALLOWED = "https://app.example.com, https://acme-notes-*-acme.vercel.app"
PREVIEW = "https://acme-notes-git-new-menu-acme.vercel.app"
REFUSED = [
    "https://evil.example",
    "http://app.example.com",  # another scheme is another origin
    "https://app.example.com.evil.example",
    "https://acme-notes-x.evil.example-acme.vercel.app",  # a * never stands for a dot
]


def preflight(client, origin, method="POST"):
    """What a browser sends before a cross-origin POST with a JSON body."""
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type",
    }
    return client.options("/api/items", headers=headers)


@pytest.fixture
def cors_client(make_app):
    return make_app(CORS_ORIGINS=ALLOWED.replace(",", " ").split()).test_client()


@pytest.mark.parametrize("origin", ["https://app.example.com", PREVIEW])
def test_a_preflight_from_an_allowed_origin_is_answered(cors_client, origin):
    response = preflight(cors_client, origin)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"].lower() == "content-type"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert "Origin" in response.headers["Vary"]


@pytest.mark.parametrize("origin", REFUSED)
def test_a_preflight_from_any_other_origin_gets_no_permission(cors_client, origin):
    response = preflight(cors_client, origin)
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers


def test_the_allowed_origin_may_read_the_answer_and_its_errors(cors_client):
    origin = "https://app.example.com"
    answer = cors_client.get("/api/health", headers={"Origin": origin})
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    missing = cors_client.get("/api/nope", headers={"Origin": origin})
    assert missing.status_code == 404
    assert missing.headers["Access-Control-Allow-Origin"] == origin


def test_requests_that_name_no_origin_get_no_cors_headers(cors_client):
    response = cors_client.get("/api/health")
    assert response.status_code == 200
    assert not [name for name, _ in response.headers if name.startswith("Access-Control-")]


def test_without_cors_origins_no_origin_is_allowed(client):
    assert "Access-Control-Allow-Origin" not in preflight(client, "https://app.example.com").headers
    answer = client.get("/api/health", headers={"Origin": "https://app.example.com"})
    assert "Access-Control-Allow-Origin" not in answer.headers


BAD_ENTRIES = {
    "*": "would let every site call the API",
    "app.example.com": "is not an origin",
    "https://app.example.com/api": "is not an origin",
    "https://*.vercel.*": "is a pattern that other people's domains match",
    "https://*": "is a pattern that other people's domains match",
}


@pytest.mark.parametrize("entry, problem", BAD_ENTRIES.items(), ids=BAD_ENTRIES)
def test_a_bad_entry_is_logged_with_the_reason_and_ignored(make_app, caplog, entry, problem):
    with caplog.at_level(logging.WARNING):
        client = make_app(CORS_ORIGINS=[entry, "https://app.example.com/"]).test_client()
    assert f"CORS_ORIGINS: {entry!r} {problem}" in caplog.text
    assert "it is ignored" in caplog.text
    assert "Access-Control-Allow-Origin" not in preflight(client, "https://evil.example").headers
    # The good entry still works; its trailing slash (never part of an origin) is forgiven.
    allowed = preflight(client, "https://app.example.com")
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
