"""Every strategy's project passes its own tests and runs locally with no setup."""

import json
import re
import urllib.request

import pytest

from template_tools.matrix import PYTHON_VERSIONS, STRATEGIES
from template_tools.projects import create_tables, flask_run, run_project_tests

# The default shape on the oldest Python runs as the project's CI workflow runs it
# (tests/test_project_ci.py); here each strategy's suite runs on the newest with every option on.
NEWEST_PYTHON = PYTHON_VERSIONS[-1]
EVERY_OPTION = {"cron": True, "region": "fra1"}


@pytest.mark.slow
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_generated_test_suite_passes_with_every_option_on_the_newest_python(
    render, venv_for, strategy, record_property
):
    project = render(db_init_strategy=strategy, python_version=NEWEST_PYTHON, **EVERY_OPTION)
    result = run_project_tests(project, venv_for(NEWEST_PYTHON))
    assert " passed" in result.stdout and "skipped" not in result.stdout
    assert "tests/test_cron.py" in result.stdout, result.stdout
    cold_starts = re.findall(r"^ *(\d+) ms  tests/test_vercel\.py::(\w+)", result.stdout, re.MULTILINE)
    assert len(cold_starts) == 5, result.stdout
    record_property("generated_cold_starts", ", ".join(f"{test} {ms} ms" for ms, test in cold_starts))


def http(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.slow
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_flask_run_serves_the_api_on_local_sqlite(render, venv_for, strategy):
    project = render(db_init_strategy=strategy, project_name=f"Local {strategy}")
    venv = venv_for("3.12")
    if strategy != "lazy":  # the lazy strategy's first request creates them, as it does on Vercel
        create_tables(project, venv)
    with flask_run(project, venv) as base:
        assert http("GET", f"{base}/api/health") == (200, {"status": "ok"})
        assert http("POST", f"{base}/api/items", {"name": "Milk"}) == (201, {"id": 1, "name": "Milk"})
        assert http("GET", f"{base}/api/items") == (200, [{"id": 1, "name": "Milk"}])
    package = f"local_{strategy}"
    assert (project / "instance" / f"{package}.sqlite3").exists()
