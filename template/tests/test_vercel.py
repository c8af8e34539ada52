"""What Vercel does with this app, done here first: every cold start imports index.py in a fresh,
read-only process with only the variables set on Vercel, then serves requests.

The tools are the dev dependency flask-vercel-doctor; these tests are about this app.
"""

from pathlib import Path

import pytest
from flask_vercel_doctor import diagnose

ROOT = Path(__file__).resolve().parents[1]
SQLITE_FOR_THESE_TESTS = {"ALLOW_SQLITE_ON_VERCEL": "1"}  # on Vercel the disk is read-only
# Work that runs at import, which Vercel repeats at every cold start: none of it belongs there.
WORK_AT_IMPORT = {"database", "network", "process", "thread", "environ"}
# They load on the first database request (and every schema tool with them): cold starts never pay.
DATABASE_LIBRARIES = {"sqlalchemy", "psycopg", "psycopg2"}


@pytest.fixture(scope="module")
def diagnosis():
    """The doctor's findings: it reads every module index.py imports, then imports it as Vercel does."""
    return diagnose(ROOT)


def test_the_doctor_finds_nothing_that_breaks_on_vercel(diagnosis):
    """No exception, write or required variable at import: each fails every cold start."""
    assert diagnosis.entrypoint.file == "index.py"
    assert [str(finding) for finding in diagnosis.errors] == []


def test_nothing_but_building_the_app_runs_at_import(diagnosis):
    """No connection, create_all, process, thread or os.environ[...] at import, in any module."""
    assert [str(finding) for finding in diagnosis.warnings if finding.kind in WORK_AT_IMPORT] == []


def test_static_files_come_from_the_cdn_not_the_function(diagnosis):
    """Files in public/ are served by Vercel's CDN; a static folder elsewhere costs an invocation each."""
    assert [str(finding) for finding in diagnosis.warnings if finding.kind == ""] == []


def test_a_cold_start_loads_no_database_library(diagnosis):
    """Models and database code are imported inside the functions that use them (README, Growing the app)."""
    loaded = DATABASE_LIBRARIES & set(diagnosis.imports[0].loaded_modules)
    assert loaded == set(), f"importing index.py loads {sorted(loaded)}: import them inside a function"


def test_a_cold_start_answers_without_a_database(vercel_cold_start):
    function = vercel_cold_start()
    assert function.get("/api/health").json() == {"status": "ok"}


def test_a_cold_start_serves_the_database_routes(vercel_cold_start, ready_app):
    function = vercel_cold_start(DATABASE_URL=ready_app.config["DATABASE_URL"], **SQLITE_FOR_THESE_TESTS)
    created = function.post("/api/items", body={"name": "Milk"})
    assert (created.status, created.json()) == (201, {"id": 1, "name": "Milk"})
    assert function.get("/api/items").json() == [{"id": 1, "name": "Milk"}]


def test_an_unreachable_database_is_a_503_and_the_function_lives_on(
    vercel_cold_start, unreachable_database_url
):
    function = vercel_cold_start(DATABASE_URL=unreachable_database_url)
    response = function.get("/api/items")
    assert response.status == 503
    assert "error" in response.json()
    assert function.get("/api/health").status == 200  # the same instance serves on
    assert function.alive()


def test_a_cold_start_serves_the_home_page_and_refuses_a_body_vercel_would_refuse(vercel_cold_start):
    function = vercel_cold_start()
    page = function.get("/")
    assert page.status == 200
    assert page.headers.get("Content-Type") == "text/html; charset=utf-8"
    assert '<link rel="stylesheet" href="/static/app.css">' in page.body.decode()
    too_large = function.post("/api/items", body={"name": "x" * 4_600_000})  # over Vercel's 4.5 MB
    assert too_large.status == 413
    assert "larger than 4.5 MB" in too_large.json()["message"]
    assert function.alive()


def test_a_cold_start_answers_preflights_from_cors_origins_only(vercel_cold_start):
    function = vercel_cold_start(CORS_ORIGINS="https://app.example.com https://acme-*-team.vercel.app")
    for origin, allowed in [
        ("https://app.example.com", True),
        ("https://acme-git-main-team.vercel.app", True),
        ("https://evil.example", False),
    ]:
        headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
        response = function.request("OPTIONS", "/api/items", headers=headers)
        assert response.status == 200
        assert response.headers.get("Access-Control-Allow-Origin") == (origin if allowed else None), origin
