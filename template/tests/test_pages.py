"""The home page, and its assets: where Vercel's CDN serves them, at the URLs `flask run` serves too."""

import re
from pathlib import Path

PUBLIC = Path(__file__).resolve().parents[1] / "public"
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)">')


def test_the_home_page_names_the_project_its_health_and_where_to_go(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    page = response.get_data(as_text=True)
    assert "<h1>" in page and "Health: <strong>ok</strong>" in page
    for link in ('href="/api/health"', 'href="/api/items"', 'href="https://flask.palletsprojects.com/"'):
        assert link in page


def test_the_home_page_needs_no_database(make_app, unreachable_database_url):
    client = make_app(DATABASE_URL=unreachable_database_url).test_client()
    assert client.get("/").status_code == 200


def test_the_stylesheet_is_linked_where_the_cdn_serves_it_and_flask_run_serves_the_same_file(client):
    [href] = STYLESHEET.findall(client.get("/").get_data(as_text=True))
    assert href == "/static/app.css"  # Vercel's CDN serves public/static/app.css at this URL
    served = client.get(href)
    assert served.status_code == 200
    assert served.content_type.startswith("text/css")
    assert served.data == (PUBLIC / "static" / "app.css").read_bytes()


def test_a_missing_asset_is_a_json_404(client):
    response = client.get("/static/missing.css")
    assert response.status_code == 404
    assert response.get_json()["error"] == "Not Found"
