"""flask-vercel-doctor: what makes a Flask app fail on Vercel, found before you deploy it.

Public API (everything else is internal):

``diagnose(project_root, *, python=None, env=None, timeout=30, static_only=False) -> Diagnosis``
    Both passes. ``Diagnosis.entrypoint`` is what Vercel serves (``.file``, ``.module``,
    ``.variable``, ``.how``) or None; ``.findings``, ``.errors``, ``.warnings``; ``.imports`` holds
    the ImportReport of each entrypoint imported.
``check_import(project_root, *, python=None, env=None, timeout=30, entrypoint=None) -> ImportReport``
    The import pass alone: ``.findings``, ``.errors``, ``.warnings``, ``.import_ms``, ``.flask_ms``,
    ``.loaded_modules``, ``.largest_imports``, ``.app_type``, ``.output``.
``Finding``
    ``.severity`` ("error" or "warning"), ``.where`` ("path:line"), ``.what``, ``.why``, ``.fix``;
    ``str(finding)`` is the one-line report. ``.kind`` names what the code does at import ("database",
    "network", "process", "thread", "environ", "write", "setting", "server"), "slow_import", or "".
``CouldNotRun``
    Raised when the doctor cannot check the project (the CLI's exit code 2); its message says why.

``python=None`` means the project's ``.venv/bin/python`` when it exists, else the running interpreter
when it is inside the project or a virtual environment with Flask installed (a project's pytest run);
``env`` adds variables to the ones Vercel sets. In a project's tests::

    from flask_vercel_doctor import check_import, diagnose

    def test_vercel_can_serve_the_app():
        assert diagnose(ROOT).errors == []

The cold-start harness is ``flask_vercel_doctor.vercel_runtime``; the pytest plugin
(``flask_vercel_doctor.pytest_plugin``) is active wherever this package is installed.
"""

from .diagnosis import Diagnosis, diagnose
from .entrypoint import Entrypoint
from .findings import CouldNotRun, Finding
from .imports import ImportReport, check_import

__all__ = ["CouldNotRun", "Diagnosis", "Entrypoint", "Finding", "ImportReport", "check_import", "diagnose"]
