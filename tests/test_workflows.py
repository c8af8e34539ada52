"""The GitHub workflows and Dependabot config, the template's own and every project's.

They match GitHub's schemas (check-jsonschema, offline) and zizmor finds nothing of medium or high
severity in them; both checks are shown to fail on a broken copy. Every action is pinned to a
commit, the same one everywhere. The project's template-update job, run here step by step with
stand-ins for the network (uvx, git push, gh), applies a new release and opens its pull request.
"""

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from template_tools import REPO_ROOT
from template_tools.commands import COPIER, commit_all, copier, git, run
from template_tools.repository import TemplateCopy
from template_tools.workflows import load_workflow

BIN = Path(sys.executable).parent
SCHEMAS = {"workflow": "vendor.github-workflows", "dependabot": "vendor.dependabot"}
SERIOUS = {"Medium", "High"}
UPDATE_WORKFLOW = ".github/workflows/template-update.yml"
# `owner/repo@<commit> # vX.Y.Z`: the policy .github/zizmor.yml records, with the version for readers.
PINNED = re.compile(r"^\s*(?:- )?uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$")
# `_src_path` values the update job accepts (Copier fetches them) and refuses (paths on the rendering host).
REMOTE_SOURCES = (
    "https://github.com/acme/copier-vercel-flask.git",
    "gh:acme/copier-vercel-flask",
    "git@github.com:acme/copier-vercel-flask.git",
)
LOCAL_SOURCES = (".", "/home/dev/copier-vercel-flask", "file:///home/dev/copier-vercel-flask")


def github_files(root):
    """(kind, path) for the workflows and the Dependabot config under ``root``."""
    github = Path(root) / ".github"
    files = [("workflow", path) for path in sorted((github / "workflows").glob("*.yml"))]
    if (github / "dependabot.yml").is_file():
        files.append(("dependabot", github / "dependabot.yml"))
    return files


def schema_errors(kind, *paths):
    """check-jsonschema's report on ``paths`` against GitHub's schema for ``kind``; '' when valid."""
    result = run([BIN / "check-jsonschema", "--builtin-schema", SCHEMAS[kind], *paths], check=False)
    return "" if result.returncode == 0 else result.stdout + result.stderr


def serious_findings(config, paths):
    """zizmor's findings of medium or high severity in ``paths`` under ``config``, one line each."""
    command = [BIN / "zizmor", "--offline", "--no-exit-codes", "--format", "json", "--config", config]
    findings = json.loads(run([*command, *paths]).stdout)
    return sorted(
        f"{finding['determinations']['severity']} {finding['ident']}: {where(finding)}"
        for finding in findings
        if finding["determinations"]["severity"] in SERIOUS and not finding.get("ignored")
    )


def where(finding):
    location = finding["locations"][0]
    path = location["symbolic"]["key"]["Local"]["verbatim_path"]
    row = location["concrete"]["location"]["start_point"]["row"] + 1
    return f"{path}:{row} {location['symbolic']['annotation']}"


def assert_valid_and_clean(root):
    files = github_files(root)
    assert files
    for kind in SCHEMAS:
        paths = [path for file_kind, path in files if file_kind == kind]
        assert not paths or schema_errors(kind, *paths) == ""
    findings = serious_findings(root / ".github" / "zizmor.yml", [path for _, path in files])
    assert findings == [], "\n".join(findings)


def test_the_templates_own_workflows_match_githubs_schema_and_pass_zizmor():
    assert_valid_and_clean(REPO_ROOT)


def test_each_projects_workflows_and_dependabot_config_match_the_schemas_and_pass_zizmor(project):
    assert_valid_and_clean(project)


def broken_copy(project, tmp_path, name, edits):
    """``project``'s ``name`` copied into ``tmp_path`` with each (pattern, new) of ``edits`` applied."""
    text = (project / name).read_text()
    for pattern, new in edits:
        text, count = re.subn(pattern, new.replace("\\", "\\\\"), text)
        assert count == 1, f"{pattern!r} is not in {name} exactly once"
    broken = tmp_path / name
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text(text)
    return broken


@pytest.mark.parametrize(
    ("kind", "name", "old", "new", "complaint"),
    [
        ("workflow", ".github/workflows/ci.yml", "runs-on:", "run-on:", "run-on"),
        ("dependabot", ".github/dependabot.yml", "    groups:", "    group:", "group"),
    ],
)
def test_the_schema_check_fails_on_a_misspelt_key_or_value(render, tmp_path, kind, name, old, new, complaint):
    broken = broken_copy(render(db_init_strategy="lazy"), tmp_path, name, [(old, new)])
    assert complaint in schema_errors(kind, broken)


PULL_REQUEST_TARGET = ("  pull_request:\n", "  pull_request_target:\n")
HEAD_CHECKOUT = (
    "          persist-credentials: false",
    "          ref: ${{ github.event.pull_request.head.sha }}\n          persist-credentials: false",
)


@pytest.mark.parametrize(
    ("name", "edits", "reported"),
    [
        # A pull request from a fork runs its own code with the base repository's token.
        (".github/workflows/ci.yml", [PULL_REQUEST_TARGET, HEAD_CHECKOUT], "High dangerous-triggers"),
        (
            ".github/workflows/ci.yml",
            [(r"astral-sh/setup-uv@\w+", "astral-sh/setup-uv@v10.0.1")],
            "High unpinned-uses",
        ),
        (
            ".github/workflows/ci.yml",
            [(r"actions/checkout@\w+", "actions/checkout@v7")],
            "High unpinned-uses",
        ),
        (
            ".github/workflows/ci.yml",
            [("persist-credentials: false", "fetch-depth: 1")],
            "Medium artipacked",
        ),
        (
            ".github/workflows/ci.yml",
            [("permissions:\n  contents: read\n", "")],
            "Medium excessive-permissions",
        ),
        (
            ".github/dependabot.yml",
            [("    cooldown:\n      default-days: 7\n    groups:", "    groups:")],
            "Medium dependabot-cooldown",
        ),
    ],
    ids=[
        "pull-request-target",
        "tag-pinned-third-party",
        "tag-pinned-actions",
        "credentials",
        "permissions",
        "cooldown",
    ],
)
def test_zizmor_under_the_projects_policy_reports_what_it_forbids(render, tmp_path, name, edits, reported):
    project = render(db_init_strategy="lazy")
    broken = broken_copy(project, tmp_path, name, edits)
    findings = serious_findings(project / ".github" / "zizmor.yml", [broken])
    assert any(finding.startswith(reported) for finding in findings), findings


def test_every_action_is_pinned_to_one_commit_everywhere_with_its_version_beside_it(render):
    """The template's and the projects' workflows agree, so one bump moves them all."""
    assert (REPO_ROOT / ".github" / "zizmor.yml").read_text() == (
        render(db_init_strategy="lazy") / ".github" / "zizmor.yml"
    ).read_text()
    roots = [REPO_ROOT, *(render(db_init_strategy=strategy) for strategy in ("migrations", "lazy"))]
    pins, unpinned = {}, []
    for root in roots:
        for kind, path in github_files(root):
            for line in path.read_text().splitlines():
                if kind == "workflow" and "uses:" in line:
                    match = PINNED.match(line)
                    if match:
                        pins.setdefault(match[1], set()).add(match.group(2, 3))
                    else:
                        unpinned.append(f"{path}: {line.strip()}")
    assert unpinned == []
    assert {action: refs for action, refs in pins.items() if len(refs) > 1} == {}
    assert {"actions/checkout", "astral-sh/setup-uv"} <= set(pins)


def test_the_update_workflow_runs_weekly_and_alone_may_write(project):
    workflow = load_workflow(project / UPDATE_WORKFLOW)
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    assert workflow["permissions"] == {"contents": "read"}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    checkout = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # Copier needs the project's history
    assert "--trust" not in (project / UPDATE_WORKFLOW).read_text()
    ci = load_workflow(project / ".github" / "workflows" / "ci.yml")
    assert ci["permissions"] == {"contents": "read"} and "permissions" not in ci["jobs"]["test"]


def test_the_update_workflow_runs_the_copier_the_template_is_tested_with(project):
    requirements = (REPO_ROOT / "requirements-dev.txt").read_text()
    (tested,) = re.findall(r"^copier==(\S+)$", requirements, re.MULTILINE)
    assert load_workflow(project / UPDATE_WORKFLOW)["env"]["COPIER"] == f"copier@{tested}"


class Runner:
    """Runs the update job's steps here as GitHub's runner would, with stand-ins for the network.

    `uvx copier@X` runs this suite's Copier (and fails for any other X); `uv` (the re-lock, which
    tests/test_lock.py runs for real), `git push` and `gh` only record their arguments, and
    `gh pr list` answers ``open_pull_requests``.
    """

    def __init__(self, workflow_path, tmp_path, open_pull_requests=""):
        self.workflow = load_workflow(workflow_path)
        (self.job,) = self.workflow["jobs"].values()
        self.temp = tmp_path / "runner-temp"
        self.log = tmp_path / "stand-ins.log"
        stand_ins = tmp_path / "stand-ins"
        for directory in (self.temp, stand_ins):
            directory.mkdir(parents=True)
        copier_spec = self.workflow["env"]["COPIER"]
        scripts = {
            "uvx": f'[ "$1" = "{copier_spec}" ] || {{ echo "uvx $1: not {copier_spec}" >&2; exit 97; }}\n'
            f'shift\nexec "{COPIER}" "$@"',
            "git": f'[ "$1" = push ] && {{ echo "git $*" >> "{self.log}"; exit 0; }}\n'
            f'exec "{shutil.which("git")}" "$@"',
            "uv": f'echo "uv $*" >> "{self.log}"',
            "gh": f'echo "gh $*" >> "{self.log}"\n[ "$2" = list ] && printf "{open_pull_requests}"\nexit 0',
        }
        for name, script in scripts.items():
            (stand_ins / name).write_text(f"#!/bin/sh\n{script}\n")
            (stand_ins / name).chmod(0o755)
        home = tmp_path / "home"  # a fresh runner: no git identity but what the job sets
        home.mkdir(parents=True)
        self.env = {
            "PATH": f"{stand_ins}:{BIN}:/usr/bin:/bin",
            "HOME": str(home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "COPIER_SETTINGS_PATH": os.environ["COPIER_SETTINGS_PATH"],
            "RUNNER_TEMP": str(self.temp),
            "GITHUB_REPOSITORY": "acme/notes",
            "GITHUB_REF_NAME": "main",
            **self.workflow["env"],
        }
        self.context = {
            "github.token": "workflow-token",
            "github.repository": "acme/notes",
            "secrets.TEMPLATE_UPDATE_TOKEN || github.token": "workflow-token",
        }
        self.ran = []

    def step(self, name, cwd, check=True):
        """Run the step called ``name`` in ``cwd`` unless its `if:` is false; None when skipped."""
        step = next(step for step in self.job["steps"] if step.get("name") == name)
        if "if" in step and not self.holds(step["if"]):
            return None
        assert self.workflow["defaults"]["run"]["shell"] == "bash"
        outputs = self.temp / "outputs"
        outputs.write_text("")
        env = {**self.env, "GITHUB_OUTPUT": str(outputs)}
        for variable, value in step.get("env", {}).items():
            env[variable] = re.sub(r"\$\{\{ (.+?) \}\}", lambda match: self.context[match[1]], value)
        script = self.temp / "step.sh"
        script.write_text(step["run"])
        command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", script]
        result = run(command, cwd=cwd, env=env, check=check)
        for line in outputs.read_text().splitlines():
            key, value = line.split("=", 1)
            self.context[f"steps.{step['id']}.outputs.{key}"] = value
        self.ran.append(name)
        return result

    def steps_from(self, first, cwd):
        """Run the job's shell steps from the one called ``first`` to the end, as `if:` allows."""
        names = [step["name"] for step in self.job["steps"] if "run" in step]
        for name in names[names.index(first) :]:
            self.step(name, cwd)

    def holds(self, condition):
        """An `if:` of the one form this workflow uses; a missing output is '', as on GitHub."""
        match = re.fullmatch(r"steps\.(\w+)\.outputs\.(\w+) != ''", condition)
        assert match, f"Runner does not know `if: {condition}`"
        return self.context.get(f"steps.{match[1]}.outputs.{match[2]}", "") != ""


@pytest.mark.parametrize("source", LOCAL_SOURCES + REMOTE_SOURCES)
def test_the_update_job_stops_unless_the_template_is_a_repository(render, tmp_path, source):
    project = render(db_init_strategy="lazy")  # the same workflow for every strategy
    answers = (project / ".copier-answers.yml").read_text()
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / ".copier-answers.yml").write_text(
        re.sub(r"(?m)^_src_path: .*$", f"_src_path: {source}", answers)
    )
    result = Runner(project / UPDATE_WORKFLOW, tmp_path).step(
        "The template comes from a repository", checkout, check=False
    )
    if source in LOCAL_SOURCES:
        assert result.returncode == 1
        assert f"_src_path is '{source}', a path on the machine that rendered this project" in result.stdout
        assert "Set _src_path in .copier-answers.yml to the template's repository URL" in result.stdout
    else:
        assert (result.returncode, result.stdout) == (0, f"Template: {source}\n")


def test_a_project_rendered_from_a_local_template_is_told_to_set_its_source(project, tmp_path):
    result = Runner(project / UPDATE_WORKFLOW, tmp_path).step(
        "The template comes from a repository", project, check=False
    )
    assert result.returncode == 1 and "to the template's repository URL" in result.stdout


API = "template/{{package_name}}/api.py"
OLD_DOCSTRING = '"""The JSON API: a health check that never touches the database, and items that do."""'
TEMPLATE_DOCSTRING = '"""The JSON API (v0.2.0): a health check, and items from the database."""'
USER_DOCSTRING = '"""Our JSON API: health and items."""'


@pytest.fixture(scope="module")
def template_source(tmp_path_factory):
    """A copy of this template released as v0.1.0, then as v0.2.0 with api.py's docstring rewritten."""
    template = TemplateCopy(tmp_path_factory.mktemp("releases") / "template.git")
    template.release("v0.1.0")
    template.replace(API, OLD_DOCSTRING, TEMPLATE_DOCSTRING)
    template.release("v0.2.0")
    # A URL Copier clones (it must end in .git), so projects can update; the source check is tested above.
    return f"file://{template.path}"


def project_at(template_source, version, destination):
    """A committed project rendered from ``version``, whose api.py docstring is its own."""
    project = destination / "project"
    copier(
        "copy",
        "--defaults",
        f"--vcs-ref={version}",
        "--data=project_name=Acme Notes",
        template_source,
        project,
    )
    git(project, "init", "--quiet", "--initial-branch=main")
    api = project / "acme_notes" / "api.py"
    api.write_text(api.read_text().replace(OLD_DOCSTRING, USER_DOCSTRING))
    commit_all(project, "Acme Notes")
    return project


def test_the_update_job_applies_a_new_release_and_opens_a_pull_request_that_names_the_conflicts(
    template_source, tmp_path
):
    project = project_at(template_source, "v0.1.0", tmp_path)
    runner = Runner(project / UPDATE_WORKFLOW, tmp_path)
    runner.steps_from("Look for a newer release", project)

    assert runner.ran == ["Look for a newer release", "Apply it", "Open a pull request"]
    assert git(project, "branch", "--show-current").strip() == "template-update/0.2.0"
    assert git(project, "log", "-1", "--format=%an: %s").strip() == (
        "github-actions[bot]: Update from the template to 0.2.0"
    )
    assert "_commit: v0.2.0" in (project / ".copier-answers.yml").read_text()
    assert git(project, "status", "--porcelain") == ""
    calls = runner.log.read_text().splitlines()
    assert calls[-3] == "uv lock"  # after the update, so that the pull request passes `uv sync --locked`
    assert calls[-2] == (
        "git push --force https://x-access-token:workflow-token@github.com/acme/notes.git"
        " HEAD:refs/heads/template-update/0.2.0"
    )
    assert calls[-1].startswith("gh pr create --base main --head template-update/0.2.0")
    body = (runner.temp / "body.md").read_text()
    assert "The template has a new release, 0.2.0" in body
    assert "\n    uv sync && uv run pytest\n" in body
    assert "tests (tests/test_no_unfinished_update.py) fail" in body
    assert body.endswith("Copier left conflicts in:\n\n- `acme_notes/api.py`\n")


def test_the_update_job_proposes_a_release_once(template_source, tmp_path):
    project = project_at(template_source, "v0.1.0", tmp_path)
    runner = Runner(project / UPDATE_WORKFLOW, tmp_path, open_pull_requests="12")
    runner.steps_from("Look for a newer release", project)
    assert runner.ran == ["Look for a newer release"]
    assert runner.log.read_text().splitlines() == [
        "gh pr list --head template-update/0.2.0 --state all --json number --jq .[].number"
    ]
    assert git(project, "status", "--porcelain") == ""


def test_the_update_job_leaves_an_up_to_date_project_alone(template_source, tmp_path):
    project = project_at(template_source, "v0.2.0", tmp_path)
    runner = Runner(project / UPDATE_WORKFLOW, tmp_path)
    runner.steps_from("Look for a newer release", project)
    assert runner.ran == ["Look for a newer release"]
    assert not runner.log.exists()  # not even gh was asked
