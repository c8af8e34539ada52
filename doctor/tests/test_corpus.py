"""The doctor on small projects that reproduce each failure of issue 13, and on clean ones that must pass.

Each case: the file and variable Vercel serves (None when it serves nothing), then every finding as
(severity, where, a piece of its text). Every run must leave the project exactly as it was.
"""

import pytest
from helpers import CORPUS

from flask_vercel_doctor import diagnose

SEARCH = "Vercel's search"
CASES = {
    # Where Vercel finds the app
    "entry_api_index": (("api/index.py", "app", SEARCH), []),
    "entry_app_py": (("app.py", "app", SEARCH), []),
    "entry_wsgi_py": (("wsgi.py", "application", SEARCH), []),
    "entry_project_scripts": (("web/server.py", "app", "[project.scripts] app"), []),
    "entry_tool_vercel": (("service/main.py", "app", "[tool.vercel] entrypoint"), []),
    "legacy_builds": (
        ("api/app.py", "app", "vercel.json builds[0].src"),
        [("warning", "vercel.json:2", 'legacy "builds"'), ("warning", "vercel.json:3", 'legacy "routes"')],
    ),
    "legacy_builds_missing_target": (
        None,
        [
            ("error", "vercel.json:3", 'builds[0].src "api/index.py" matches no file'),
            ("warning", "vercel.json:2", 'legacy "builds"'),
        ],
    ),
    "app_py_beside_app_package": (
        ("app.py", "app", SEARCH),
        [
            ("error", "app.py:1", "raised ImportError: cannot import name 'create_app' from 'app'"),
            ("error", "app.py:1", "app.py has the same name as the package app/"),
        ],
    ),
    "no_entrypoint": (None, [("error", "index.py:1", "index.py exists but none defines a top-level app")]),
    "not_detected_as_flask": (
        None,
        [("error", "requirements.txt:1", "Vercel cannot tell this is a Flask app")],
    ),
    # What fails at import
    "create_app_writes_log": (
        ("index.py", "app", SEARCH),
        [("error", "notes/__init__.py:9", "the import creates the directory 'logs'")],
    ),
    "create_all_at_import": (
        ("index.py", "app", SEARCH),
        [
            ("error", "index.py:6", "the import creates the directory 'instance'"),
            ("warning", "index.py:9", "db.create_all() runs at import"),
        ],
    ),
    "connects_in_create_app": (
        ("index.py", "app", SEARCH),
        [
            ("error", "acme/__init__.py:9", "raised psycopg.OperationalError: connection failed"),
            ("warning", "acme/__init__.py:9", "the import connects to a database with psycopg.connect()"),
        ],
    ),
    "module_level_app_run": (
        ("index.py", "app", SEARCH),
        [("error", "index.py:11", "the import binds a socket to ('127.0.0.1', 0) (starts a server)")],
    ),
    "syntax_error": (
        ("index.py", "app", SEARCH),
        [("error", "helpers.py:1", "raised SyntaxError: expected ':'")],
    ),
    "shadows_stdlib": (
        ("index.py", "app", SEARCH),
        [("error", "email.py:1", "email.py hides 'email' of the standard library")],
    ),
    "utf16_vercel_json": (
        ("index.py", "app", SEARCH),
        [("error", "vercel.json:1", "it is saved as UTF-16, and Vercel reads it as UTF-8")],
    ),
    "bom_vercel_json": (
        ("index.py", "app", SEARCH),
        [("error", "vercel.json:1", "it starts with a byte-order mark (BOM)")],
    ),
    # Required settings a local .env hides
    "dotenv_os_environ": (
        ("index.py", "app", SEARCH),
        [("error", "index.py:8", "the import requires SECRET_KEY, which is not set (KeyError")],
    ),
    "dotenv_environs": (
        ("index.py", "app", SEARCH),
        [("error", "index.py:7", "the import requires SECRET_KEY, which is not set (environs")],
    ),
    "dotenv_decouple": (
        ("index.py", "app", SEARCH),
        [("error", "index.py:5", "the import requires SECRET_KEY, which is not set (decouple")],
    ),
    "dotenv_pydantic_settings": (
        ("index.py", "app", SEARCH),
        [("error", "settings.py:10", "the import requires secret_key, which is not set (pydantic")],
    ),
    # Served, but slow or fragile
    "warning_signs": (
        ("index.py", "app", SEARCH),
        [
            ("warning", "index.py:9", "the import starts a process (subprocess.Popen 'true')"),
            ("warning", "index.py:10", "the import starts a thread"),
            ("warning", "index.py:12", "the import connects to ('127.0.0.1', 1)"),
        ],
    ),
    # Static files: Vercel's CDN serves public/, the function everything else
    "reads_public_at_import": (
        ("index.py", "app", SEARCH),
        [("error", "index.py:7", "raised FileNotFoundError: [Errno 2] No such file or directory")],
    ),
    "static_folder_in_function": (
        ("index.py", "app", SEARCH),
        [("warning", "index.py:4", "the app serves static/ (2 files) itself, at /static/")],
    ),
    "public_static_misconfigured": (
        ("index.py", "app", SEARCH),
        [("warning", "index.py:5", "public/static/ at /assets/, but Vercel's CDN serves it at /static/")],
    ),
    # Clean: nothing to report
    "clean_requirements_txt": (("index.py", "app", SEARCH), []),
    "clean_pipfile": (("main.py", "app", SEARCH), []),
    "clean_flask_sqlalchemy": (("index.py", "app", SEARCH), []),
    "latin1_source": (("api/index.py", "app", SEARCH), []),
    "writes_only_to_tmp": (("index.py", "app", SEARCH), []),
    "clean_public_static": (("index.py", "app", SEARCH), []),
}


def summary(diagnosis):
    return [(f.severity, f.where, f.what) for f in diagnosis.findings]


@pytest.mark.parametrize("name", CASES)
def test_the_doctor_reports_what_breaks_each_project_and_leaves_it_untouched(name, corpus_python, untouched):
    (served, expected) = CASES[name]
    diagnosis = diagnose(untouched(CORPUS / name), python=corpus_python, timeout=20)
    if served is None:
        assert diagnosis.entrypoint is None
    else:
        entrypoint = diagnosis.entrypoint
        assert (entrypoint.file, entrypoint.variable) == served[:2]
        assert served[2] in entrypoint.how
    found = summary(diagnosis)
    assert len(found) == len(expected), found
    for (severity, where, what), (want_severity, want_where, want_what) in zip(found, expected, strict=True):
        assert (severity, where) == (want_severity, want_where), found
        assert want_what in what, found
    assert all("Fix: " in str(finding) for finding in diagnosis.findings)
    assert bool(diagnosis.errors) == any(severity == "error" for severity, _, _ in expected)


KINDS = {
    "warning_signs": ["process", "thread", "network"],
    "create_all_at_import": ["write", "database"],
    "dotenv_os_environ": ["setting"],
    "legacy_builds": ["", ""],
}


@pytest.mark.parametrize("name", KINDS)
def test_each_finding_says_what_kind_of_work_it_is(name, corpus_python, untouched):
    """What a project's tests filter on: the work done at import, apart from entrypoint and config."""
    diagnosis = diagnose(untouched(CORPUS / name), python=corpus_python, timeout=20)
    assert [finding.kind for finding in diagnosis.findings] == KINDS[name]


def test_an_import_that_never_finishes_is_stopped_and_located(corpus_python, untouched):
    diagnosis = diagnose(untouched(CORPUS / "blocking_import"), python=corpus_python, timeout=2)
    assert summary(diagnosis) == [
        ("error", "index.py:13", "importing index.py did not finish within 2 s (stopped here)")
    ]


def test_the_variables_set_on_vercel_satisfy_the_required_setting(corpus_python, untouched):
    project = untouched(CORPUS / "dotenv_environs")
    assert diagnose(project, python=corpus_python, env={"SECRET_KEY": "set-on-vercel"}).findings == []


def test_the_import_of_the_flask_sqlalchemy_app_is_measured_against_flask_alone(corpus_python, untouched):
    report = diagnose(untouched(CORPUS / "clean_flask_sqlalchemy"), python=corpus_python).imports[0]
    assert report.errors == report.warnings == []
    assert 0 < report.flask_ms < report.import_ms
    assert {"flask", "flask_sqlalchemy", "sqlalchemy"} <= set(report.loaded_modules)
    assert "sqlalchemy" in dict(report.largest_imports)
    assert report.app_type == "flask.app.Flask"
