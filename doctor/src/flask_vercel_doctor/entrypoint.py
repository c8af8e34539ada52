"""Which file and variable Vercel serves, resolved as its Python builder does (@vercel/python 6.56).

With a framework preset (Flask, detected from the dependencies or set in vercel.json):
1. ``[tool.vercel] entrypoint = "module:variable"`` in pyproject.toml, else
2. the first of app.py, index.py, server.py, main.py, wsgi.py, asgi.py, searched in the root, then
   src/, app/, api/, whose top-level statements define a recognised name, else
3. ``[project.scripts] app = "module:variable"``.
With legacy ``builds`` in vercel.json, each ``src`` glob names the files to build instead, and the
preset and everything above are ignored.

A recognised name is found statically, in top-level statements only, first one in the file wins:
``app`` or ``application`` assigned (``x = app = ...`` and ``app: T`` count, tuples do not), defined
with ``def``/``async def`` or bound by ``from x import ...``; ``handler`` or ``Handler`` only as a
class. A file with a syntax error defines nothing.
"""

import ast
import re
from dataclasses import dataclass, field

from . import sources
from .findings import SYNTAX_FIX, error, warning

ENTRY_DIRECTORIES = ("", "src", "app", "api")
ENTRY_FILES = ("app", "index", "server", "main", "wsgi", "asgi")
CANDIDATES = tuple(f"{d}/{f}.py".lstrip("/") for d in ENTRY_DIRECTORIES for f in ENTRY_FILES)
APP_NAMES = ("app", "application")
HANDLER_CLASSES = ("handler", "Handler")
PYTHON_FRAMEWORKS = {"flask", "fastapi", "django", "fasthtml", "python"}
MODULE_ATTRIBUTE = re.compile(r"([A-Za-z_][\w.]*)\s*:\s*([A-Za-z_]\w*)")
# The settings of pyproject.toml that name the entrypoint: where, and what when they name no file.
PYPROJECT_ENTRYPOINTS = {
    "[tool.vercel] entrypoint": (
        ("tool", "vercel", "entrypoint"),
        'Vercel\'s build stops with "no matching module file was found"',
        'write it as "module:variable", e.g. "index:app" for index.py, or delete it to let Vercel search',
    ),
    "[project.scripts] app": (
        ("project", "scripts", "app"),
        "Vercel finds no entrypoint and the build fails",
        "point it at the module that defines the app, or define app in index.py",
    ),
}
SEARCH = (
    f"Vercel's search: the first of {', '.join(f + '.py' for f in ENTRY_FILES)} in the root, then src/, "
    "app/, api/ that defines app, application or a handler class"
)


@dataclass(frozen=True)
class Entrypoint:
    file: str  # relative POSIX path of the module Vercel imports
    variable: str  # the name its runtime serves
    how: str  # how Vercel finds it, for the report
    line: int = 1  # where the variable is defined, 1 when unknown

    @property
    def module(self):
        """The name Vercel's runtime registers in sys.modules: api/index.py -> api.index."""
        return re.sub(r"/__init__$", "", self.file.removesuffix(".py")).replace("/", ".")

    def __str__(self):
        return f"{self.file}, variable {self.variable} ({self.how})"


@dataclass
class Resolution:
    entrypoints: list = field(default_factory=list)
    findings: list = field(default_factory=list)

    @property
    def entrypoint(self):
        return self.entrypoints[0] if self.entrypoints else None


def defined_names(tree):
    """Each (name, line) Vercel's detection accepts, in source order."""
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign):
            names = [node.target.id] if isinstance(node.target, ast.Name) else []
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names = [node.name]
        elif isinstance(node, ast.ImportFrom):
            names = [alias.asname or alias.name for alias in node.names]
        elif isinstance(node, ast.ClassDef):
            names = [node.name] if node.name in HANDLER_CLASSES else []
        else:
            continue
        for name in names:
            if name in APP_NAMES or (name in HANDLER_CLASSES and isinstance(node, ast.ClassDef)):
                yield name, node.lineno


def find_app_or_handler(text):
    """(variable, line) for the first name Vercel's detection accepts in ``text``, or None."""
    try:
        tree = ast.parse(text.removeprefix("\ufeff"))
    except (SyntaxError, ValueError):
        return None
    return next(defined_names(tree), None)


def detect(project, relative):
    """find_app_or_handler on a project file; None when it cannot be read."""
    try:
        return find_app_or_handler(project.source(relative))
    except (OSError, sources.UnreadableSource):
        return None


def module_file(project, value):
    """The file a ``module:variable`` string names (module.py or module/__init__.py), or None."""
    match = MODULE_ATTRIBUTE.search(value)
    if not match:
        return None, None
    base = match[1].replace(".", "/")
    for candidate in (f"{base}.py", f"{base}/__init__.py"):
        if (project.root / candidate).is_file():
            return candidate, match[2]
    return f"{base}.py", match[2]


def resolve(project):
    """Where Vercel's build finds the app, and every problem that stops it finding one."""
    builds = project.vercel_config.get("builds")
    if isinstance(builds, list) and builds:
        return resolve_legacy_builds(project, builds)
    resolution = Resolution()
    framework = framework_of(project, resolution)
    if framework is None:
        return resolution
    configured = pyproject_entrypoint(project, resolution, "[tool.vercel] entrypoint")
    if configured or resolution.findings:
        resolution.entrypoints += [configured] if configured else []
        return resolution
    for candidate in CANDIDATES:
        if not (project.root / candidate).is_file():
            continue
        if found := detect(project, candidate):
            resolution.entrypoints.append(Entrypoint(candidate, found[0], SEARCH, found[1]))
            return resolution
        resolution.findings += unparsable(project, candidate)
    if script := pyproject_entrypoint(project, resolution, "[project.scripts] app"):
        resolution.entrypoints.append(script)
    elif not any(finding.is_error for finding in resolution.findings):
        resolution.findings.append(no_entrypoint_finding(project))
    return resolution


def framework_of(project, resolution):
    """The framework preset Vercel builds with, or None (with the finding that says why there is none)."""
    config = project.vercel_config
    if "framework" in config:
        framework = config["framework"]
        line = project.line_of("vercel.json", '"framework"')
        if framework in PYTHON_FRAMEWORKS:
            return framework
        resolution.findings.append(
            error(
                f"vercel.json:{line}",
                f'vercel.json sets "framework" to {framework!r}',
                "with that preset Vercel builds no Python function: it serves the source files as static "
                "files, or fails to build",
                'set "framework": "flask"',
            )
        )
        return None
    if project.flask_declared_in:
        return "flask"
    resolution.findings.append(
        error(
            "vercel.json:1" if project.vercel_json else "requirements.txt:1",
            "Vercel cannot tell this is a Flask app: none of requirements.txt, pyproject.toml, Pipfile "
            'mentions Flask, and vercel.json sets no "framework"',
            "a new Vercel project then gets the framework preset Other, builds no Python function and serves "
            "the .py files as static files",
            'list flask in requirements.txt or pyproject.toml, or add "framework": "flask" to vercel.json',
        )
    )
    return None


def pyproject_entrypoint(project, resolution, setting):
    """The entrypoint a "module:variable" setting of pyproject.toml names; a finding when it names no file."""
    keys, why, fix = PYPROJECT_ENTRYPOINTS[setting]
    value = project.pyproject
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if value is None or (keys[0] == "project" and not isinstance(value, str)):
        return None  # the builder ignores an [project.scripts] app that is not a string
    file, variable = module_file(project, value) if isinstance(value, str) else (None, None)
    if file and (project.root / file).is_file():
        return Entrypoint(file, variable, f"{setting} in pyproject.toml")
    resolution.findings.append(
        error(
            f"pyproject.toml:{project.line_of('pyproject.toml', f'{keys[-1]} =')}",
            f"{setting} = {value!r} names no module file of this project"
            + (f" ({file} does not exist)" if file else ""),
            why,
            fix,
        )
    )
    return None


def unparsable(project, candidate):
    """A candidate Vercel's search passes over because it cannot parse it, which is easy to miss."""
    try:
        ast.parse(project.source(candidate))
    except (sources.UnreadableSource, SyntaxError, ValueError) as problem:
        return [
            warning(
                f"{candidate}:{getattr(problem, 'lineno', None) or 1}",
                f"Vercel's search passes over {candidate}: it cannot be parsed ({problem})",
                "a file with a syntax error defines no app for Vercel's builder, so another file (or none) "
                "is served",
                SYNTAX_FIX,
            )
        ]
    return []


def no_entrypoint_finding(project):
    existing = [c for c in CANDIDATES if (project.root / c).is_file()]
    elsewhere = [
        (name, found[0])
        for name in project.python_files
        if name not in existing and (found := detect(project, name))
    ]
    if existing:
        verb = "exists" if len(existing) == 1 else "exist"
        what = f"{', '.join(existing[:3])} {verb} but none defines a top-level app"
    else:
        what = (
            "Vercel finds no entrypoint: none of "
            + ", ".join(CANDIDATES[:6])
            + " (nor in src/, app/, api/) exists"
        )
    fix = "define `app = create_app()` (or `app = Flask(__name__)`) at the top level of index.py"
    if elsewhere:
        file, variable = elsewhere[0]
        module = Entrypoint(file, variable, "").module
        fix = f'add [tool.vercel] entrypoint = "{module}:{variable}" to pyproject.toml, or {fix}'
    return error(
        f"{existing[0]}:1" if existing else "pyproject.toml:1",
        what,
        "Vercel's build fails (FLASK_ENTRYPOINT_NOT_FOUND); an `app` assigned inside if/try or a function is "
        "not seen",
        fix,
    )


def glob_pattern(src):
    """A vercel.json ``src`` glob (minimatch, dotfiles included) as a regular expression."""
    pattern, i = "", 0
    while i < len(src):
        if src.startswith("**/", i):
            pattern, i = pattern + "(?:.*/)?", i + 3
        elif src.startswith("**", i):
            pattern, i = pattern + ".*", i + 2
        elif src[i] == "*":
            pattern, i = pattern + "[^/]*", i + 1
        elif src[i] == "?":
            pattern, i = pattern + "[^/]", i + 1
        else:
            pattern, i = pattern + re.escape(src[i]), i + 1
    return re.compile(pattern + r"\Z")


def resolve_legacy_builds(project, builds):
    resolution = Resolution()
    line = project.line_of("vercel.json", '"builds"')
    resolution.findings.append(
        warning(
            f"vercel.json:{line}",
            'vercel.json uses the legacy "builds"',
            "it switches off the framework preset and the project's build settings: no build command runs, "
            "and routing needs hand-written rules",
            'delete "builds" and let Vercel detect Flask (or set "framework": "flask")',
        )
    )
    python_builds = [
        (index, build)
        for index, build in enumerate(builds)
        if isinstance(build, dict) and str(build.get("use", "")).startswith("@vercel/python")
    ]
    for index, build in python_builds:
        src = str(build.get("src") or "**").lstrip("/")
        where = f"vercel.json:{project.line_of('vercel.json', src) if build.get('src') else line}"
        matcher = glob_pattern(src)
        matches = [name for name in project.files if name == src or matcher.match(name)]
        if not matches:
            resolution.findings.append(
                error(
                    where,
                    f'builds[{index}].src "{src}" matches no file of the project',
                    "Vercel builds no function from it, silently: every route meant for it answers 404",
                    "point src at the file that defines the app (for example api/index.py), or drop builds",
                )
            )
        for name in matches:
            found = detect(project, name) if name.endswith(".py") else None
            if not name.endswith(".py"):
                resolution.findings.append(
                    error(
                        where,
                        f'builds[{index}].src "{src}" matches {name}, which is not a Python file',
                        "Vercel's Python build fails for it (configured entrypoint not found)",
                        "make src name only the .py file that defines the app",
                    )
                )
            elif found:
                resolution.entrypoints.append(
                    Entrypoint(name, found[0], f"vercel.json builds[{index}].src", found[1])
                )
            else:
                resolution.findings.append(
                    error(
                        f"{name}:1",
                        f"{name} (built by builds[{index}]) defines no top-level app, application or handler",
                        'Vercel\'s build fails: "Could not find a top-level app, application, or handler"',
                        "define `app = ...` at the top level of that file",
                    )
                )
    if not python_builds:
        resolution.findings.append(
            error(
                f"vercel.json:{line}",
                'no entry of "builds" uses @vercel/python',
                "Vercel builds no Python function: the .py files are served as static files",
                'delete "builds" and let Vercel detect Flask',
            )
        )
    return resolution
