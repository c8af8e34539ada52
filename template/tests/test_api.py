"""The example API: what a client of the deployed app sees."""

from sqlalchemy import create_engine, text


def test_health_answers_without_a_database(make_app, unreachable_database_url):
    client = make_app(DATABASE_URL=unreachable_database_url).test_client()
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_created_items_are_listed(ready_client):
    assert ready_client.get("/api/items").get_json() == []
    created = ready_client.post("/api/items", json={"name": "  Milk "})
    assert created.status_code == 201
    assert created.get_json() == {"id": 1, "name": "Milk"}
    ready_client.post("/api/items", json={"name": "Eggs"})
    listed = ready_client.get("/api/items")
    assert listed.status_code == 200
    assert [item["name"] for item in listed.get_json()] == ["Milk", "Eggs"]


def test_a_bad_item_is_a_400_with_a_json_reason(ready_client):
    bad_bodies = [None, {}, {"name": ""}, {"name": "   "}, {"name": 42}, ["Milk"], {"name": "x" * 201}]
    for body in bad_bodies:
        response = ready_client.post("/api/items", json=body)
        assert response.status_code == 400, body
        assert response.is_json and response.get_json()["message"], body
    assert ready_client.get("/api/items").get_json() == []


def test_unknown_routes_answer_json(client):
    response = client.get("/api/nope")
    assert response.status_code == 404
    assert response.get_json()["error"] == "Not Found"


def test_an_unreachable_database_is_a_503_not_a_crash(make_app, unreachable_database_url):
    app = make_app(DATABASE_URL=unreachable_database_url)
    client = app.test_client()
    response = client.get("/api/items")
    assert response.status_code == 503
    assert response.get_json()["message"] == "The database is unreachable right now; try again shortly."
    assert client.get("/api/health").status_code == 200


def test_on_vercel_a_missing_database_url_is_a_503_naming_the_variable(make_app):
    client = make_app(ON_VERCEL=True, DATABASE_URL=None).test_client()
    assert client.get("/api/health").status_code == 200
    response = client.get("/api/items")
    assert response.status_code == 503
    assert "DATABASE_URL is not set" in response.get_json()["message"]


def test_on_vercel_sqlite_is_refused_unless_allowed(make_app, tmp_path):
    sqlite_url = f"sqlite:///{tmp_path / 'vercel.sqlite3'}"
    refused = make_app(ON_VERCEL=True, DATABASE_URL=sqlite_url).test_client().get("/api/items")
    assert refused.status_code == 503
    assert "ALLOW_SQLITE_ON_VERCEL=1" in refused.get_json()["message"]
    allowed = make_app(ON_VERCEL=True, DATABASE_URL=sqlite_url, ALLOW_SQLITE_ON_VERCEL=True)
    assert allowed.test_client().get("/api/health").status_code == 200


def test_a_database_older_than_the_code_is_a_503_that_says_so(make_app, database_url):
    engine = create_engine(database_url)
    with engine.begin() as connection:  # the items table as it was before its `name` column
        connection.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    response = make_app().test_client().get("/api/items")
    assert response.status_code == 503
    assert response.get_json()["message"].startswith("The database is older than this code: a column it uses")
