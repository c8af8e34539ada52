"""Every strategy's project passes its own tests and runs locally with no setup."""

import json
import re
import subprocess
import time
import urllib.request

import pytest

from template_tools.commands import free_port
from template_tools.environments import project_env
from template_tools.matrix import PYTHON_VERSIONS, STRATEGIES
from template_tools.projects import create_tables, run_project_tests


@pytest.mark.slow
@pytest.mark.parametrize("python_version", PYTHON_VERSIONS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_generated_test_suite_passes(render, venv_for, strategy, python_version, record_property):
    project = render(db_init_strategy=strategy, python_version=python_version)
    venv = venv_for(python_version)
    result = run_project_tests(project, venv)
    assert " passed" in result.stdout and "skipped" not in result.stdout
    cold_starts = re.findall(r"^ *(\d+) ms  tests/test_vercel\.py::(\w+)", result.stdout, re.MULTILINE)
    assert len(cold_starts) == 3, result.stdout
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
def test_flask_run_serves_the_api_on_local_sqlite(render, venv_for, tmp_path, strategy):
    project = render(db_init_strategy=strategy, project_name=f"Local {strategy}")
    venv = venv_for("3.12")
    env = project_env(venv)
    if strategy != "lazy":  # the lazy strategy's first request creates them, as it does on Vercel
        create_tables(project, venv)
    port = free_port()
    server = subprocess.Popen(
        ["flask", "--app", "index", "run", "--port", str(port)],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                status, body = http("GET", f"{base}/api/health")
                break
            except OSError:
                time.sleep(0.1)
        assert (status, body) == (200, {"status": "ok"})
        assert http("POST", f"{base}/api/items", {"name": "Milk"}) == (201, {"id": 1, "name": "Milk"})
        assert http("GET", f"{base}/api/items") == (200, [{"id": 1, "name": "Milk"}])
        package = f"local_{strategy}"
        assert (project / "instance" / f"{package}.sqlite3").exists()
    finally:
        server.terminate()
        server.wait(timeout=10)
