"""The steps a generated README tells its reader to take, read from the README and applied to the project.

The README marks each block it wants applied with an HTML comment on the line before the fence
(Markdown does not show it), so the tests run what the reader reads and the two cannot drift:

    <!-- step model: append acme_notes/models.py -->
    ```python
    class Comment(Base): ...
    ```

``step`` groups the blocks (in the order the README gives them); the action says what to do:

- ``create PATH``: a new file holding the block;
- ``append PATH``: the block added at the end of the file;
- ``replace PATH 'LINE'``: the one line of the file that reads LINE (indentation aside) becomes the block;
- ``imports PATH``: each import line of the block replaces the file's one line importing from that module;
- ``run``: shell commands, run in the project by the caller (see uv_projects).
"""

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

MARKER = re.compile(r"^<!-- step ", re.MULTILINE)
MARKED_BLOCK = re.compile(
    r"^<!-- step (?P<step>[\w-]+): (?P<action>.+?) -->\n```[\w-]*\n(?P<code>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)
EDITS = {"create": 1, "append": 1, "replace": 2, "imports": 1}  # action -> how many arguments


class StepError(AssertionError):
    """A marked block that cannot be read or applied; the message says which and why."""


@dataclass(frozen=True)
class Block:
    step: str
    action: str
    arguments: tuple
    code: str

    def __str__(self):
        return f"step {self.step}: {shlex.join([self.action, *self.arguments])}"


def readme_steps(readme_text):
    """{step: [Block, ...]} in the README's order; every marker must precede a fenced block."""
    blocks = [parse(match) for match in MARKED_BLOCK.finditer(readme_text)]
    unreadable = len(MARKER.findall(readme_text)) - len(blocks)
    if unreadable:
        raise StepError(f"{unreadable} step marker(s) not followed by a code block")
    steps = {}
    for block in blocks:
        steps.setdefault(block.step, []).append(block)
    return steps


def parse(match):
    action, *arguments = shlex.split(match["action"])
    block = Block(match["step"], action, tuple(arguments), match["code"])
    expected = EDITS.get(action, 0 if action == "run" else None)
    if expected is None or len(arguments) != expected:
        raise StepError(f"cannot read the marker of {block}: expected {' | '.join([*EDITS, 'run'])}")
    return block


def apply_edit(project, block):
    """Change the project's file as ``block`` says (every action but ``run``)."""
    path = Path(project) / block.arguments[0]
    if block.action == "create":
        if path.exists():
            raise StepError(f"{block}: {path} exists already")
        path.write_text(block.code)
        return
    if not path.is_file():
        raise StepError(f"{block}: there is no {path}")
    text = path.read_text()
    if block.action == "append":
        blank_lines = "\n\n\n" if path.suffix == ".py" else "\n\n"  # two before top-level Python code
        path.write_text(text.rstrip("\n") + blank_lines + block.code)
    elif block.action == "replace":
        path.write_text(replace_line(text, block.arguments[1], block.code, block))
    else:
        for line in block.code.splitlines(keepends=True):
            text = extend_import(text, line, block)
        path.write_text(text)


def replace_line(text, wanted, replacement, block):
    """``text`` with its one line matching ``wanted`` (stripped) replaced."""
    lines = text.splitlines(keepends=True)
    found = [number for number, line in enumerate(lines) if line.strip() == wanted]
    if len(found) != 1:
        raise StepError(f"{block}: {len(found)} lines match {wanted!r}, expected exactly one")
    lines[found[0] : found[0] + 1] = [replacement]
    return "".join(lines)


def extend_import(text, line, block):
    """``text`` with the one import that ``line`` extends (same module, a subset of its names) replaced."""
    match = re.match(r"(from \S+ import |import )(.+)", line.strip())
    if match is None:
        raise StepError(f"{block}: {line.strip()!r} is not an import")
    prefix, names = match[1], imported_names(match[2])
    lines = text.splitlines(keepends=True)
    found = [
        number
        for number, old in enumerate(lines)
        if old.startswith(prefix) and imported_names(old[len(prefix) :]) <= names
    ]
    if len(found) != 1:
        wanted = f"{prefix.strip()} a subset of {sorted(names)}"
        raise StepError(f"{block}: {len(found)} lines {wanted}, expected one")
    lines[found[0]] = line
    return "".join(lines)


def imported_names(names):
    """{"a", "b"} for ``a, b  # comment``."""
    return {name.strip() for name in names.split("#")[0].split(",") if name.strip()}
