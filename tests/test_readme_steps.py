"""The README's "Growing the app" blocks as test_day_two.py reads them, and how a wrong block fails."""

import shutil

import pytest

from template_tools.readme_steps import StepError, apply_edit, readme_steps

# Per step, the actions each strategy's README gives; only the table creation differs.
ACTIONS = {
    "model": ["imports", "append"],
    "routes": ["create", "imports", "replace", "create"],
    "dependency": ["run", "append", "replace", "append"],
    "setting": ["replace", "imports", "replace", "append", "append"],
}
MODEL_COMMANDS = {
    "migrations": ["db upgrade", 'db migrate -m "add comments"', "db upgrade"],
    "manual": ["init-db"],
    "lazy": None,
    "init_endpoint": None,
}


def test_each_readme_gives_the_four_steps_in_order(project, strategy):
    steps = readme_steps((project / "README.md").read_text())
    actions = {step: [block.action for block in blocks] for step, blocks in steps.items()}
    actions["model"] = [action for action in actions["model"] if action != "run"]
    assert actions == ACTIONS
    commands = [block.code for block in steps["model"] if block.action == "run"]
    expected = MODEL_COMMANDS[strategy]
    if expected is None:  # nothing to run: the strategy creates the table itself, or through /_init
        assert commands == []
    else:
        assert commands == ["".join(f"uv run flask --app index {command}\n" for command in expected)]


def test_every_edit_names_a_file_of_the_project_or_one_an_earlier_step_creates(project):
    created = set()
    for blocks in readme_steps((project / "README.md").read_text()).values():
        for block in blocks:
            if block.action == "create":
                assert not (project / block.arguments[0]).exists(), block
                created.add(block.arguments[0])
            elif block.action != "run":
                assert (project / block.arguments[0]).is_file() or block.arguments[0] in created, block


@pytest.fixture
def scratch(project, tmp_path):
    return shutil.copytree(project, tmp_path / "project")


def marked(action, code):
    return readme_steps(f"<!-- step edit: {action} -->\n```python\n{code}```\n")["edit"][0]


def test_edits_do_what_the_readme_says(scratch):
    models = scratch / "acme_notes" / "models.py"
    imports = "from sqlalchemy import Integer, String, select\n"
    apply_edit(scratch, marked("imports acme_notes/models.py", imports))
    ours = "class Base(DeclarativeBase):  # ours\n"
    apply_edit(scratch, marked("replace acme_notes/models.py 'class Base(DeclarativeBase):'", ours))
    apply_edit(scratch, marked("append acme_notes/models.py", "LIMIT = 3\n"))
    text = models.read_text()
    assert imports in text
    assert ours in text
    assert text.endswith("\n\n\nLIMIT = 3\n")


BAD_EDITS = {
    "a line that is not there": ("replace acme_notes/models.py 'class Tag(Base):'", "0 lines match"),
    "a module not imported yet": ("imports acme_notes/models.py", "0 lines from decimal import a subset"),
    "an import that drops a name": (
        "imports acme_notes/models.py",
        "0 lines from sqlalchemy import a subset",
    ),
    "a file that exists": ("create acme_notes/api.py", "exists already"),
    "a file that does not": ("append acme_notes/tags.py", "there is no"),
}


@pytest.mark.parametrize("action, message", BAD_EDITS.values(), ids=BAD_EDITS)
def test_a_block_that_no_longer_fits_the_project_fails_saying_why(scratch, action, message):
    before = (scratch / "acme_notes" / "models.py").read_text()
    code = "x = 1\n"
    if action.startswith("imports"):
        module = "sqlalchemy import select" if "sqlalchemy" in message else "decimal import Decimal"
        code = f"from {module}\n"
    with pytest.raises(StepError, match=message):
        apply_edit(scratch, marked(action, code))
    assert (scratch / "acme_notes" / "models.py").read_text() == before


def test_a_marker_without_its_block_or_with_an_unknown_action_is_refused():
    with pytest.raises(StepError, match="not followed by a code block"):
        readme_steps("<!-- step model: run -->\nuv run flask --app index init-db\n")
    with pytest.raises(StepError, match="cannot read the marker"):
        readme_steps("<!-- step model: rewrite index.py -->\n```python\nx = 1\n```\n")
