"""A cold process: import the app, then its first ``GET /api/items`` (run by a project's interpreter)."""

import index

response = index.app.test_client().get("/api/items")
assert response.status_code == 200, response.get_data(as_text=True)
