"""The file and variable Vercel serves, resolved as @vercel/python 6.56 resolves them."""

import pytest
from helpers import write_project

from flask_vercel_doctor import diagnose
from flask_vercel_doctor.entrypoint import CANDIDATES, Entrypoint, find_app_or_handler

# Each source and the name Vercel's detection (findAppOrHandler, probed with node) returns for it.
DETECTION = {
    "app = Flask(__name__)": "app",
    "application = make()": "application",
    "app: Flask = Flask(__name__)": "app",
    "app: Flask": "app",
    "x = app = make()": "app",
    "def app(environ, start_response): pass": "app",
    "async def app(scope, receive, send): pass": "app",
    "def application(environ, start_response): pass": "application",
    "from server import app": "app",
    "from server import create as app": "app",
    "from .server import app": "app",
    "class handler(BaseHTTPRequestHandler): pass": "handler",
    "class Handler(BaseHTTPRequestHandler): pass": "Handler",
    "from x import application, app": "application",  # the first in the file wins
    "class handler: pass\napp = 1": "handler",
    "\ufeffapp = 1": "app",
    "handler = make()": None,  # a handler must be a class
    "def handler(event, context): pass": None,
    "class app: pass": None,
    "from x import app as other": None,
    "import x as app": None,
    "app, other = 1, 2": None,
    "app += 1": None,
    "if True:\n    app = 1": None,  # only top-level statements count
    "try:\n    app = 1\nexcept Exception:\n    pass": None,
    "if __name__ == '__main__':\n    app = 1": None,
    "app = 1\nbroken = (": None,  # a syntax error anywhere: nothing is found
    "print 'hello'\napp = 1": None,
}


@pytest.mark.parametrize("source, name", DETECTION.items(), ids=range(len(DETECTION)))
def test_the_names_vercel_accepts_are_found_as_its_builder_finds_them(source, name):
    found = find_app_or_handler(source)
    assert (found and found[0]) == name


def test_the_search_order_is_the_builders():
    assert CANDIDATES[:6] == ("app.py", "index.py", "server.py", "main.py", "wsgi.py", "asgi.py")
    assert CANDIDATES[6::6] == ("src/app.py", "app/app.py", "api/app.py")
    assert len(CANDIDATES) == 24


def served(root):
    entrypoint = diagnose(root, static_only=True).entrypoint
    return entrypoint and (entrypoint.file, entrypoint.variable)


def test_the_root_comes_before_api_and_a_file_without_app_is_passed_over(tmp_path):
    write_project(tmp_path, {"api/index.py": "app = 1\n", "main.py": "app = 1\n", "index.py": "APP = 1\n"})
    assert served(tmp_path) == ("main.py", "app")


def test_a_file_with_a_syntax_error_is_passed_over_and_still_reported(tmp_path):
    write_project(tmp_path, {"index.py": "app = (\n", "server.py": "application = 1\n"})
    diagnosis = diagnose(tmp_path, static_only=True)
    assert served(tmp_path) == ("server.py", "application")
    assert [(f.severity, f.where) for f in diagnosis.findings] == [("warning", "index.py:1")]


def test_tool_vercel_comes_first_and_project_scripts_last(tmp_path):
    pyproject = '[project]\nname = "x"\ndependencies = ["flask"]\n[project.scripts]\napp = "web.main:app"\n'
    write_project(tmp_path, {"pyproject.toml": pyproject, "web/__init__.py": "", "web/main.py": "app = 1\n"})
    assert served(tmp_path) == ("web/main.py", "app")
    write_project(tmp_path, {"wsgi.py": "application = 1\n"})
    assert served(tmp_path) == ("wsgi.py", "application")  # the search comes before [project.scripts]
    pyproject += '[tool.vercel]\nentrypoint = "web:server"\n'
    write_project(tmp_path, {"pyproject.toml": pyproject})
    assert served(tmp_path) == ("web/__init__.py", "server")  # a package's __init__.py, any variable


def test_an_entrypoint_setting_that_names_no_file_is_an_error(tmp_path):
    write_project(
        tmp_path, {"pyproject.toml": '[tool.vercel]\nentrypoint = "api.main:app"\n', "index.py": "app = 1"}
    )
    diagnosis = diagnose(tmp_path, static_only=True)
    assert diagnosis.entrypoint is None
    [finding] = diagnosis.errors
    assert finding.where == "pyproject.toml:2"
    assert finding.what == (
        "[tool.vercel] entrypoint = 'api.main:app' names no module file of this project "
        "(api/main.py does not exist)"
    )


def test_legacy_builds_serve_every_file_their_glob_matches(tmp_path):
    python = '{"src": "api/*.py", "use": "@vercel/python"}'
    builds = f'{{"builds": [{python}, {{"src": "public/**", "use": "@vercel/static"}}]}}'
    files = {
        "vercel.json": builds,
        "api/users.py": "app = 1\n",
        "api/items.py": "app = 2\n",
        "api/util.py": "X = 1\n",
    }
    diagnosis = diagnose(write_project(tmp_path, files), static_only=True)
    assert [e.file for e in diagnosis.entrypoints] == ["api/items.py", "api/users.py"]
    assert [(f.where, f.what) for f in diagnosis.errors] == [
        ("api/util.py:1", "api/util.py (built by builds[0]) defines no top-level app, application or handler")
    ]


def test_vercel_json_can_switch_the_flask_preset_off(tmp_path):
    write_project(tmp_path, {"vercel.json": '{\n  "framework": null\n}\n', "index.py": "app = 1\n"})
    diagnosis = diagnose(tmp_path, static_only=True)
    assert diagnosis.entrypoint is None
    assert [(f.where, f.what) for f in diagnosis.errors] == [
        ("vercel.json:2", 'vercel.json sets "framework" to None')
    ]


def test_no_vercel_json_is_needed_when_the_dependencies_name_flask(tmp_path):
    manifests = {
        "requirements.txt": "Flask==3.1\n",
        "pyproject.toml": '[project]\nname = "x"\ndependencies = ["flask>=3.1"]\n',
        "Pipfile": '[packages]\nflask = "*"\n',
    }
    for manifest, text in manifests.items():
        files = {"requirements.txt": "", manifest: text, "index.py": "app = 1"}
        assert diagnose(write_project(tmp_path / manifest, files), static_only=True).findings == []


def test_the_module_name_is_the_one_vercels_runtime_registers():
    assert Entrypoint("api/index.py", "app", "").module == "api.index"
    assert Entrypoint("web/__init__.py", "app", "").module == "web"
    assert Entrypoint("app.py", "app", "").module == "app"
