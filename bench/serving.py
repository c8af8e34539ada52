"""Warm requests/second: every candidate behind the same stdlib WSGI server, interleaved rounds."""

import http.client
import statistics
import subprocess
import time

from template_tools.commands import free_port
from template_tools.projects import project_script

from .candidates import BARE, candidate_env
from .timing import rotated


def requests_per_second(runs, requests, candidates, venv, url_for):
    """{(candidate, path): median requests/second} over ``runs`` rounds of ``requests`` each."""
    paths = {c.name: ["/"] if c.name == BARE else ["/api/health", "/api/items"] for c in candidates}
    servers = {}
    try:
        for candidate in candidates:
            servers[candidate.name] = start_server(
                candidate, venv, url_for(candidate)
            )  # bare Flask ignores it
        targets = [(c.name, path) for c in candidates for path in paths[c.name]]
        for name, path in targets:  # warm: the first request builds the engine and the pool
            fetch(servers[name][1], path)
        samples = {target: [] for target in targets}
        for round_number in range(runs):
            for name, path in rotated(targets, round_number):
                port = servers[name][1]
                start = time.perf_counter()
                for _ in range(requests):
                    fetch(port, path)
                samples[(name, path)].append(requests / (time.perf_counter() - start))
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=10)
    return {target: statistics.median(values) for target, values in samples.items()}


def start_server(candidate, venv, database_url):
    port = free_port()
    env = candidate_env(venv, database_url)
    env["PYTHONPATH"] = str(candidate.directory)
    process = subprocess.Popen(
        [venv / "bin" / "python", project_script("serve"), str(port)],
        cwd=candidate.directory,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    if process.stdout.readline().strip() != "ready":
        process.kill()
        raise RuntimeError(f"the WSGI server for {candidate.name} did not start")
    return process, port


def fetch(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path} on port {port} answered {response.status}")
    finally:
        connection.close()
