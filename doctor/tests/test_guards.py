"""The guards the pytest plugin runs before collection, and the plugin as a project's pytest meets it."""

import py_compile
import subprocess

from flask_vercel_doctor.guards import build_bytecode_left, trusted_bytecode, unfinished_update

# Built, not written out, so that no file of this repository holds a conflict marker.
OPENING, CLOSING = "<" * 7 + " before updating", ">" * 7 + " after updating"
CONFLICT = f"{OPENING}\nDEBUG = False\n=======\nDEBUG = True\n{CLOSING}\n"


def compile_as(source, mode):
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text("VALUE = 1\n")
    py_compile.compile(str(source), invalidation_mode=mode)


def test_the_bytecode_a_build_leaves_is_told_from_the_ordinary_kind(tmp_path):
    modes = py_compile.PycInvalidationMode
    compile_as(tmp_path / "built" / "module.py", modes.UNCHECKED_HASH)  # what the builder writes
    compile_as(tmp_path / "ordinary" / "module.py", modes.TIMESTAMP)  # what Python writes on import
    compile_as(tmp_path / "checked" / "module.py", modes.CHECKED_HASH)
    compile_as(tmp_path / ".venv" / "lib" / "module.py", modes.UNCHECKED_HASH)  # installed, not yours
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("")
    assert trusted_bytecode(tmp_path) == [tmp_path / "built" / "__pycache__"]
    assert build_bytecode_left(tmp_path).endswith(
        "delete it and run the tests again: rm -rf built/__pycache__"
    )


def git(root, *arguments):
    subprocess.run(["git", *arguments], cwd=root, check=True, capture_output=True)


def test_an_unfinished_update_is_found_in_ignored_files_too(tmp_path):
    git(tmp_path, "init", "--quiet")
    (tmp_path / ".gitignore").write_text("*.rej\ngenerated/\n")
    (tmp_path / "pyproject.toml.rej").write_text("@@ -1 +1 @@\n")  # hidden from `git status` (Copier #2668)
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "settings.py").write_text(CONFLICT)
    (tmp_path / "README.md").write_text("Title\n=======\n")  # a Markdown underline is not a marker
    for local_state in (".venv/lib/site.py", "node_modules/x/index.js", ".git/MERGE_MSG", ".vercel/x.json"):
        (tmp_path / local_state).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / local_state).write_text(CONFLICT)
    assert unfinished_update(tmp_path) == (
        "conflict markers from `copier update` in generated/settings.py (lines 1, 5): edit each block "
        "between the markers to what you want and delete the marker lines; changes `copier update` could "
        "not apply in pyproject.toml.rej: apply each by hand to the file of the same name without .rej, "
        "then delete the .rej file; then run the tests again and commit."
    )
    assert unfinished_update(tmp_path / "generated" / "..") is not None
    (tmp_path / "generated" / "settings.py").write_text("DEBUG = False\n")
    (tmp_path / "pyproject.toml.rej").unlink()
    assert unfinished_update(tmp_path) is None


def test_the_plugin_stops_the_run_before_conftest_imports_the_app_and_can_be_told_not_to(pytester):
    pytester.makepyfile(test_app="def test_nothing():\n    pass\n")
    pytester.makeconftest("import settings  # a project's conftest imports its app\n")
    pytester.path.joinpath("settings.py").write_text(CONFLICT)
    stopped = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert stopped.ret == 4  # a usage error: nothing was collected
    stopped.stderr.fnmatch_lines(
        ["ERROR: conflict markers from `copier update` in settings.py (lines 1, 5)*"]
    )
    pytester.path.joinpath("conftest.py").unlink()  # turned off, the conflicted module is not imported
    assert pytester.runpytest_subprocess("-p", "no:cacheprovider", "--no-update-guard").ret == 0
    pytester.makeini("[pytest]\nvercel_doctor_update_guard = false\n")
    assert pytester.runpytest_subprocess("-p", "no:cacheprovider").ret == 0


def test_the_plugin_stops_at_bytecode_a_local_build_left(pytester):
    pytester.makepyfile(test_app="def test_nothing():\n    pass\n")
    compile_as(pytester.path / "acme" / "views.py", py_compile.PycInvalidationMode.UNCHECKED_HASH)
    stopped = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert stopped.ret == 4
    stopped.stderr.fnmatch_lines(["ERROR: a local `vercel build` left bytecode*rm -rf acme/__pycache__"])
    assert pytester.runpytest_subprocess("-p", "no:cacheprovider", "--no-build-bytecode-guard").ret == 0
