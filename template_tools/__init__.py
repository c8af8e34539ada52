"""The template repository's own tooling: shared by its tests, the benchmark and the race script.

None of it reaches a rendered project. Modules run inside a rendered project, by that project's
interpreter, live in ``project_scripts/``.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
