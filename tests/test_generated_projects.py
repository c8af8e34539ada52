"""Every strategy's project passes its own tests and runs locally with no setup."""

import json
import re
import urllib.request

import pytest

from template_tools.matrix import PYTHON_VERSIONS, STRATEGIES
from template_tools.projects import create_tables, flask_run, run_project_tests

# Each strategy's suite runs once as a project starts by default, and once (on the other Python) with
# every optional feature on: both shapes are proven without doubling the slowest test of the suite.
OPTIONAL_FEATURES = {PYTHON_VERSIONS[0]: {}, PYTHON_VERSIONS[-1]: {"cron": True, "region": "fra1"}}


@pytest.mark.slow
@pytest.mark.parametrize("python_version", PYTHON_VERSIONS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_generated_test_suite_passes(render, venv_for, strategy, python_version, record_property):
    features = OPTIONAL_FEATURES.get(python_version, {})
    project = render(db_init_strategy=strategy, python_version=python_version, **features)
    venv = venv_for(python_version)
    result = run_project_tests(project, venv)
    assert " passed" in result.stdout and "skipped" not in result.stdout
    assert ("tests/test_cron.py" in result.stdout) == bool(features.get("cron")), result.stdout
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
