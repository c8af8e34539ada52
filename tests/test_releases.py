"""Releases: CHANGELOG.md agrees with the template, and the release step tags what it says.

The changelog is checked against the template's real history (each release's copier.yml at its tag,
or at the commit its entry records) and the working tree; each kind of disagreement is shown to be
caught on a clone. `python -m template_tools.release` runs in a clone of this repository, as a
maintainer runs it: it tags the newest entry, backfills the releases made before tags, and refuses
what it must, saying why, without making a tag.
"""

import re
import sys
from datetime import date

import pytest
import yaml

from template_tools import REPO_ROOT
from template_tools.changelog import Changelog, disagreements, questions
from template_tools.commands import commit_all, git, git_env, run
from template_tools.repository import history_clone

RETIRED_312 = '"3.12": {value: "3.12", validator: "Vercel retired Python 3.12: choose 3.13 or 3.14"}'


def test_the_changelog_and_the_template_agree():
    assert disagreements(REPO_ROOT) == []


def test_the_first_release_names_every_question_it_asked():
    first = Changelog.read().releases[-1]
    asked = questions(run(["git", "show", f"{first.recorded_commit}:copier.yml"], cwd=REPO_ROOT).stdout)
    (line,) = [item for item in first.sections["Added"] if item.startswith("Questions ")]
    assert all(f"`{name}`" in line for name in asked) and len(asked) == 4


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """This repository's history, the checkout under test committed on top, with the tags it has."""
    return history_clone(tmp_path_factory.mktemp("release") / "copier-vercel-flask", keep_tags=True)


@pytest.fixture
def clone(history, tmp_path):
    clone = tmp_path / "copier-vercel-flask"
    git(tmp_path, "clone", "--quiet", str(history), str(clone))
    return clone


def edit(clone, name, old, new):
    path = clone / name
    assert old in path.read_text(), f"{old!r} is not in {name}"
    path.write_text(path.read_text().replace(old, new, 1))


@pytest.mark.parametrize(
    ("name", "old", "new", "complaint"),
    [
        (
            "CHANGELOG.md",
            "## [0.2.0] - 2026-11-29",
            "## 2026-11-29",
            "`## 2026-11-29` is neither `## [Unreleased]` nor a release with its version and date",
        ),
        ("CHANGELOG.md", "## [0.2.0] - 2026-11-29", "## [0.2.0]", "nor a release with its version and date"),
        ("CHANGELOG.md", "## [0.1.0] - 2026-11-29", "## [0.4.0] - 2026-11-29", "must be newer than the"),
        (
            "CHANGELOG.md",
            "### Manual steps\n\nNone.\n\n### Added\n\n- The build",
            "### Added\n\n- The build",
            "0.2.0 has no `### Manual steps`",
        ),
        ("doctor/pyproject.toml", 'version = "', 'version = "9.', "the doctor is released with the template"),
        (
            "copier.yml",
            "\n_message_after_copy:",
            "\nvercel_region:\n  type: str\n  help: The region.\n  default: iad1\n\n_message_after_copy:",
            "the question `vercel_region` was added, but CHANGELOG.md",
        ),
        (
            "copier.yml",
            '    "3.14": "3.14"\n',
            '    "3.14": "3.14"\n    "3.15": "3.15"\n',
            "the choice `3.15` of `python_version` was added",
        ),
        (
            "copier.yml",
            '    "3.12": "3.12"\n',
            "",
            "the choice `3.12` of `python_version` is gone from copier.yml: a project that chose it would "
            "have its answer replaced by the default on its next `copier update`, silently",
        ),
        (
            "copier.yml",
            '    "3.12": "3.12"\n',
            f"    {RETIRED_312}\n",
            "the choice `3.12` of `python_version` was retired, but CHANGELOG.md",
        ),
        (
            "copier.yml",
            "default: \"{{ python_version | default('3.12') }}\"",
            'default: "3.12"',
            "`python_version` must default to the answer a project stored",
        ),
    ],
    ids=[
        "heading-without-version",
        "heading-without-date",
        "versions-out-of-order",
        "no-manual-steps",
        "doctor-version",
        "question-added-silently",
        "choice-added-silently",
        "choice-deleted",
        "choice-retired-silently",
        "default-forgets-the-answer",
    ],
)
def test_each_disagreement_is_caught_with_what_to_do(clone, name, old, new, complaint):
    assert disagreements(clone) == []  # the clone agrees before the edit
    edit(clone, name, old, new)
    found = disagreements(clone)
    assert any(complaint in problem for problem in found), found


def test_a_retired_choice_with_its_changelog_line_agrees(clone):
    edit(clone, "copier.yml", '    "3.12": "3.12"\n', f"    {RETIRED_312}\n")
    edit(clone, "copier.yml", "default('3.12')", "default('3.13')")
    retired = "- `python_version` `3.12`: Vercel retired it; a project on it picks 3.13 or 3.14 to update.\n"
    edit(clone, "CHANGELOG.md", "## [Unreleased]\n", f"## [Unreleased]\n\n### Removed\n\n{retired}")
    assert disagreements(clone) == []
    choices = yaml.safe_load((clone / "copier.yml").read_text())["python_version"]["choices"]
    assert choices["3.12"]["value"] == "3.12" and choices["3.12"]["validator"]


def prepare_release(clone):
    """What a maintainer commits before tagging: [Unreleased] moved under a release entry dated today,
    that release's version in doctor/pyproject.toml. The newest entry if it is not tagged yet, else
    the next minor version. Returns the version."""
    changelog = Changelog.read(clone)
    newest = changelog.releases[0]
    text = (clone / "CHANGELOG.md").read_text()
    if git(clone, "tag", "--list", newest.tag).strip():
        major, minor, _ = newest.version.split(".")
        version = f"{major}.{int(minor) + 1}.0"
        heading = f"## [{version}] - {date.today()}\n\n### Manual steps\n\nNone.\n\n### Fixed\n\n- A test.\n"
    else:
        version = newest.version
        text = re.sub(rf"^## \[{re.escape(version)}\] .*\n", "", text, count=1, flags=re.MULTILINE)
        heading = f"## [{version}] - {date.today()}\n"
    (clone / "CHANGELOG.md").write_text(text.replace("## [Unreleased]\n", f"## [Unreleased]\n\n{heading}", 1))
    doctor = clone / "doctor" / "pyproject.toml"
    doctor.write_text(re.sub(r'(?m)^version = ".*"$', f'version = "{version}"', doctor.read_text(), count=1))
    commit_all(clone, f"Release {version}")
    return version


def release(clone, *arguments):
    """`python -m template_tools.release` in ``clone``, as the maintainer runs it (-P: this checkout's
    template_tools, not the clone's committed copy)."""
    command = [sys.executable, "-P", "-m", "template_tools.release", *arguments]
    return run(command, cwd=clone, env=git_env(), check=False)


def tags(clone):
    return {tag: git(clone, "rev-parse", f"{tag}^{{commit}}").strip() for tag in git(clone, "tag").split()}


def test_the_release_step_tags_the_newest_entry_and_the_releases_made_before_tags(clone):
    version = prepare_release(clone)
    before = tags(clone)
    assert release(clone, "--dry-run").returncode == 0 and tags(clone) == before
    result = release(clone)
    assert result.returncode == 0, result.stderr
    made = tags(clone)
    head = git(clone, "rev-parse", "HEAD").strip()
    assert made[f"v{version}"] == head
    for entry in Changelog.read(clone).releases[1:]:
        if entry.recorded_commit:
            assert made[entry.tag].startswith(entry.recorded_commit)
    assert f"Tagged v{version} at {head[:12]}" in result.stdout
    new_tags = [entry.tag for entry in reversed(Changelog.read(clone).releases) if entry.tag not in before]
    assert result.stdout.splitlines()[-1] == f"Publish: git push origin {' '.join(new_tags)}"
    message = git(clone, "tag", "--list", "--format=%(contents)", f"v{version}")
    assert message.startswith(f"copier-vercel-flask {version}\n") and "### Manual steps" in message
    again = release(clone)
    assert again.returncode == 1 and f"v{version} exists already" in again.stderr
    assert tags(clone) == made


@pytest.mark.parametrize("refusal", ["dirty", "unreleased", "doctor"])
def test_the_release_step_refuses_and_says_why(clone, refusal):
    version = prepare_release(clone)
    if refusal == "dirty":
        edit(clone, "README.md", "# copier-vercel-flask", "# copier-vercel-flask (work in progress)")
        said = "the tree has uncommitted changes"
    elif refusal == "unreleased":
        edit(clone, "CHANGELOG.md", "## [Unreleased]\n", "## [Unreleased]\n\n### Fixed\n\n- Later work.\n")
        commit_all(clone, "Later work")
        said = "[Unreleased] lists changes that this commit holds"
    else:
        edit(clone, "doctor/pyproject.toml", f'version = "{version}"', 'version = "0.0.1"')
        commit_all(clone, "A doctor version of its own")
        said = f"has version 0.0.1, but the newest release in CHANGELOG.md is {version}"
    before = tags(clone)
    result = release(clone)
    assert result.returncode == 1
    assert result.stderr.startswith("No release: ") and said in result.stderr
    assert tags(clone) == before
