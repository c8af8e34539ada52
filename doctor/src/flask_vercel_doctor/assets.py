"""Static files and Vercel's CDN: what the import pass learns about the app's static folders.

Vercel's CDN serves the project's public/ directory, at the same paths (public/static/app.css is
/static/app.css), and the Python builder leaves every public/ directory out of the function. Any other
folder Flask serves ships in the function's bundle, and each file it serves is a function invocation.
"""

from pathlib import Path

from . import sources
from .findings import warning

PUBLIC = "public"


def static_findings(project, served_folders, fallback_where):
    """Warnings for the folders the app (and its blueprints) serve, as import_child reported them."""
    findings = []
    for served in served_folders:
        folder = Path(served["folder"])
        if not folder.is_relative_to(project.root):
            continue  # an installed package's own assets
        relative = folder.relative_to(project.root)
        where = defined_at(project, served, fallback_where)
        if PUBLIC in relative.parts:
            findings += public_folder_problems(relative, served, where)
        elif files := [path for path in folder.rglob("*") if path.is_file()]:
            findings.append(served_by_the_function(relative, served, len(files), where))
    return findings


def served_by_the_function(relative, served, count, where):
    return warning(
        where,
        f"{served['owner']} serves {relative.as_posix()}/ ({count} file{'s' * (count != 1)}) itself, "
        f"at {served['url']}/",
        "on Vercel those files ship inside the function: they weigh on every cold start, and each request "
        "for one is an uncached function invocation, while Vercel's CDN serves only public/",
        "move them to public/static/ and point Flask there, e.g. Flask(__name__, "
        'static_folder="../public/static") from a package: url_for("static", ...) keeps its URLs, '
        "and the CDN serves them",
    )


def public_folder_problems(relative, served, where):
    """A folder under public/: the URL Flask makes for its files must be the one the CDN serves them at."""
    if relative.parts[0] != PUBLIC:
        return []  # a public/ inside the project: left out of the function, and not the CDN's either
    cdn_url = "/" + "/".join(relative.parts[1:])
    if served["url"] == cdn_url:
        return []
    return [
        warning(
            where,
            f"{served['owner']} serves {relative.as_posix()}/ at {served['url']}/, "
            f"but Vercel's CDN serves it at {cdn_url}/",
            "public/ is not in the function, so on Vercel every URL url_for() makes for these files is a 404",
            f'set static_url_path="{cdn_url}"',
        )
    ]


def defined_at(project, served, fallback_where):
    """The line that sets the folder: ``static_folder=...``, else the Flask(...) or Blueprint(...) call."""
    module_file = served.get("module_file")
    if not module_file or not Path(module_file).is_relative_to(project.root):
        return fallback_where
    relative = Path(module_file).relative_to(project.root).as_posix()
    lines = sources.read_text(project.root / relative).splitlines()
    for needle in ("static_folder", "Flask(", "Blueprint("):
        for number, line in enumerate(lines, start=1):
            if needle in line:
                return f"{relative}:{number}"
    return f"{relative}:1"
