"""What each candidate ships: its runtime dependencies installed alone, as Vercel's build installs them."""

import shutil
import tomllib

from template_tools.commands import run
from template_tools.environments import UV, find_python

VERCEL_SIZE_LIMIT_MB = 250


def installed_size_mb(candidate, python_version, scratch):
    """Megabytes in site-packages after installing only the runtime dependencies."""
    if candidate.is_strategy:
        pyproject = tomllib.loads((candidate.directory / "pyproject.toml").read_text())
        requirements = pyproject["project"]["dependencies"]
    else:
        requirements = candidate.requirements
    venv = scratch / "size" / candidate.name.replace(" ", "_")
    run([UV, "venv", "--quiet", "--python", find_python(python_version), str(venv)])
    python = str(venv / "bin" / "python")
    run([UV, "pip", "install", "--quiet", "--link-mode=copy", "--python", python, *requirements])
    site_packages = next(venv.glob("lib/python*/site-packages"))
    total = sum(p.stat().st_size for p in site_packages.rglob("*") if p.is_file() and not p.is_symlink())
    shutil.rmtree(venv)
    return total / 1_000_000
