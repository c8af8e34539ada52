"""The corpus of small projects, and small projects written on the fly for rules that need no interpreter."""

import textwrap
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"


def write_project(root, files):
    """``files`` maps paths to text (dedented); a requirements.txt with Flask unless one is given."""
    for name, text in {"requirements.txt": "flask\n", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root
