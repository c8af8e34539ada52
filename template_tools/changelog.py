"""CHANGELOG.md as data, and every way it and the template can disagree.

A release is the git tag ``vX.Y.Z``; its entry says what changed for rendered projects, names each
question or choice added or retired, and the steps an update needs by hand. The questions of each
release come from its copier.yml in git: at its tag, or at the commit its entry records (releases
made before there were tags). The newest entry while untagged, and [Unreleased], cover the working
tree. A choice is never deleted: it is retired (README.md, Retired answers).
"""

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from . import REPO_ROOT
from .commands import run

CHANGELOG = "CHANGELOG.md"
DOCTOR_PYPROJECT = "doctor/pyproject.toml"
RELEASE_HEADING = re.compile(r"\[(\d+)\.(\d+)\.(\d+)\] - (\d{4}-\d{2}-\d{2})")
UNRELEASED_HEADING = "[Unreleased]"
# Keep a Changelog's kinds of change, and the steps an update of a project needs by hand.
SECTIONS = ("Manual steps", "Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
RECORDED_COMMIT = re.compile(r"^Released as commit `([0-9a-f]{7,40})`", re.MULTILINE)
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# A question keeps the answer a project stored, so that a retired one stops the update with its reason.
STICKY_DEFAULT = r"^\{\{-?\s*%s\s*\|\s*default\("


@dataclass
class Entry:
    """One ``## `` section: [Unreleased] (``version`` None) or a release."""

    version: str | None
    date: str | None
    line: int
    body: list = field(default_factory=list)
    sections: dict = field(default_factory=dict)  # "Added" -> its items, one string per bullet

    @property
    def name(self):
        return self.version or "Unreleased"

    @property
    def tag(self):
        return f"v{self.version}"

    @property
    def text(self):
        return "\n".join(self.body).strip()

    @property
    def recorded_commit(self):
        match = RECORDED_COMMIT.search(self.text)
        return match[1] if match else None

    def has_changes(self):
        return any(items for name, items in self.sections.items() if name != "Manual steps")


class Changelog:
    """The entries of a changelog, newest first; ``problems`` holds what is wrong with its form."""

    def __init__(self, text):
        self.entries, self.problems = [], []
        text = COMMENT.sub(lambda comment: "\n" * comment[0].count("\n"), text)
        section = None
        for number, line in enumerate(text.splitlines(), 1):
            if line.startswith("## "):
                self.entries.append(self.heading(line[3:].strip(), number))
                section = None
            elif line.startswith("### ") and self.entries:
                self.entries[-1].body.append(line)
                section = line[4:].strip()
                if section not in SECTIONS:
                    self.problems.append(
                        f"CHANGELOG.md line {number}: `### {section}` is not a kind of change: use one of "
                        + ", ".join(SECTIONS)
                    )
                self.entries[-1].sections.setdefault(section, [])
            elif self.entries:
                self.entries[-1].body.append(line)
                items = self.entries[-1].sections.get(section)
                if items is not None and line.strip():
                    if line.startswith(("- ", "* ")) or not items:
                        items.append(line.lstrip("-* ").strip())
                    else:  # a bullet's continuation line
                        items[-1] += " " + line.strip()
        self.check_order()

    @classmethod
    def read(cls, root=REPO_ROOT):
        return cls((Path(root) / CHANGELOG).read_text())

    def heading(self, title, number):
        if title == UNRELEASED_HEADING:
            return Entry(None, None, number)
        match = RELEASE_HEADING.fullmatch(title)
        if match:
            try:
                date.fromisoformat(match[4])
            except ValueError:
                self.problems.append(f"CHANGELOG.md line {number}: {match[4]} is not a date (YYYY-MM-DD)")
            return Entry(".".join(match.group(1, 2, 3)), match[4], number)
        self.problems.append(
            f"CHANGELOG.md line {number}: `## {title}` is neither `## [Unreleased]` nor a release with its "
            "version and date, `## [X.Y.Z] - YYYY-MM-DD`"
        )
        return Entry("?", None, number)

    def check_order(self):
        if not self.entries or self.entries[0].version is not None:
            self.problems.append(
                "CHANGELOG.md must start with `## [Unreleased]`, where changes wait for a release"
            )
        if sum(entry.version is None for entry in self.entries) > 1:
            self.problems.append("CHANGELOG.md has more than one `## [Unreleased]`")
        releases = [entry for entry in self.releases if entry.version != "?"]
        for newer, older in zip(releases, releases[1:], strict=False):
            if version_key(newer.version) <= version_key(older.version):
                self.problems.append(
                    f"CHANGELOG.md line {newer.line}: {newer.version} must be newer than the "
                    f"{older.version} below it"
                )
            elif newer.date and older.date and newer.date < older.date:
                self.problems.append(
                    f"CHANGELOG.md line {newer.line}: {newer.version} is dated before {older.version}"
                )
        for entry in releases:
            if not entry.sections.get("Manual steps"):
                self.problems.append(
                    f"CHANGELOG.md: {entry.version} has no `### Manual steps`: say what an update to it "
                    "needs by hand, or `None.`"
                )
            if not entry.has_changes():
                self.problems.append(f"CHANGELOG.md: {entry.version} lists no change for rendered projects")

    @property
    def releases(self):
        return [entry for entry in self.entries if entry.version is not None]

    @property
    def unreleased(self):
        return next((entry for entry in self.entries if entry.version is None), None)

    def release(self, version):
        return next(entry for entry in self.releases if entry.version == version)


def version_key(version):
    return tuple(int(part) for part in version.split("."))


def questions(config_text):
    """What a copier.yml asks: {question: {choice: offered?}}; a retired choice (one with a validator)
    is there, not offered; a question without choices maps to {}."""
    asked = {}
    for name, spec in (yaml.safe_load(config_text) or {}).items():
        if name.startswith("_") or not isinstance(spec, dict) or spec.get("when") is False:
            continue
        choices = spec.get("choices") or []
        pairs = choices.items() if isinstance(choices, dict) else [(choice, choice) for choice in choices]
        asked[name] = {}
        for _, value in pairs:
            retired = isinstance(value, dict) and bool(value.get("validator"))
            asked[name][str(value["value"] if isinstance(value, dict) else value)] = not retired
    return asked


def answer_changes(old, new):
    """(kind, question, choice) for each question or choice added or retired from ``old`` to ``new``;
    kind "deleted" is a choice gone from copier.yml altogether, which the policy forbids."""
    changes = [("added", name, None) for name in new if name not in old]
    changes += [("retired", name, None) for name in old if name not in new]
    for name in set(old) & set(new):
        offered_before = {choice for choice, offered in old[name].items() if offered}
        offered_now = {choice for choice, offered in new[name].items() if offered}
        changes += [("added", name, choice) for choice in sorted(offered_now - offered_before)]
        changes += [("retired", name, choice) for choice in sorted(offered_before - offered_now)]
        changes += [("deleted", name, choice) for choice in sorted(set(old[name]) - set(new[name]))]
    return changes


def uncovered(change, entries, span):
    """Why ``entries`` do not account for ``change`` (made ``span``), or None when a line names it."""
    kind, name, choice = change
    if kind == "deleted":
        return (
            f"{span}, the choice `{choice}` of `{name}` is gone from copier.yml: a project that chose it "
            "would have its answer replaced by the default on its next `copier update`, silently. Keep it "
            f'under `choices` as retired, `{{value: "{choice}", validator: "<why, and what to choose '
            'instead>"}`, and say so under `### Removed` (README.md, Retired answers)'
        )
    section = "Added" if kind == "added" else "Removed"
    names = [f"`{name}`"] + ([f"`{choice}`"] if choice else [])
    items = [item for entry in entries for item in entry.sections.get(section, [])]
    if any(all(word in item for word in names) for item in items):
        return None
    what = f"the choice `{choice}` of `{name}`" if choice else f"the question `{name}`"
    where = " or ".join(entry.name for entry in entries)
    return (
        f"{span}, {what} was {kind}, but CHANGELOG.md ({where}) has no line under `### {section}` naming "
        f"{' and '.join(names)}: add one that says what it means for rendered projects"
    )


def git_output(root, *arguments):
    """git's output, or None when it fails (an unknown revision)."""
    result = run(["git", *arguments], cwd=root, check=False)
    return result.stdout if result.returncode == 0 else None


def release_commit(root, entry):
    """The commit of a release: its tag, or the commit its entry records; None when it has neither."""
    tagged = git_output(root, "rev-parse", "--verify", "--quiet", f"refs/tags/{entry.tag}^{{commit}}")
    recorded = entry.recorded_commit
    if recorded and git_output(root, "rev-parse", "--verify", "--quiet", f"{recorded}^{{commit}}") is None:
        raise LookupError(
            f"{entry.version} records commit {recorded}, which this clone does not have: "
            "clone with full history"
        )
    if tagged and recorded and not tagged.startswith(recorded):
        raise LookupError(f"tag {entry.tag} is at {tagged[:12]}, but CHANGELOG.md records {recorded}")
    return tagged.strip() if tagged else recorded


def answer_problems(changelog, root):
    """The question and choice changes between releases (and since the last one) that no entry names."""
    problems, previous, covering = [], {}, []
    span = "in the first release"
    releases = [entry for entry in reversed(changelog.releases) if entry.version != "?"]
    for entry in releases:
        try:
            commit = release_commit(root, entry)
        except LookupError as error:
            return [*problems, str(error)]
        if commit is None:
            if entry is not releases[-1]:
                problems.append(
                    f"release {entry.version} has no tag {entry.tag} here and records no commit: "
                    "fetch the tags (`git fetch --tags`)"
                )
            covering.append(entry)
            continue
        now = questions(git_output(root, "show", f"{commit}:copier.yml") or "")
        covering.append(entry)
        problems += [
            why for change in answer_changes(previous, now) if (why := uncovered(change, covering, span))
        ]
        previous, covering, span = now, [], f"since {entry.version}"
    tree_config = (Path(root) / "copier.yml").read_text()
    now = questions(tree_config)
    covering += [changelog.unreleased] if changelog.unreleased else []
    problems += [
        why for change in answer_changes(previous, now) if (why := uncovered(change, covering, span))
    ]
    config = yaml.safe_load(tree_config)
    for name, choices in now.items():
        if choices and not re.match(STICKY_DEFAULT % name, str(config[name].get("default", ""))):
            problems.append(
                f"copier.yml: `{name}` must default to the answer a project stored, "
                f'`"{{{{ {name} | default(...) }}}}"`, so that an update whose answer was retired stops with '
                "the choice's reason instead of switching to the default (README.md, Retired answers)"
            )
    return problems


def disagreements(root=REPO_ROOT):
    """Every way CHANGELOG.md and the template at ``root`` disagree, one sentence each; [] when they agree."""
    changelog = Changelog.read(root)
    problems = list(changelog.problems)
    if not changelog.releases:
        return [*problems, "CHANGELOG.md has no release entry"]
    newest = changelog.releases[0].version
    doctor = tomllib.loads((Path(root) / DOCTOR_PYPROJECT).read_text())["project"]["version"]
    if doctor != newest:
        problems.append(
            f"{DOCTOR_PYPROJECT} has version {doctor}, but the newest release in CHANGELOG.md is {newest}: "
            "the doctor is released with the template, so give both the same version"
        )
    return problems + answer_problems(changelog, root)
