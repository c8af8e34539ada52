"""The home page in a real browser: Debian's Chromium, headless, against `flask run` on loopback."""

import re
import shutil

import pytest

from template_tools.browser import REQUIRED, BrowserUnavailable, browser, visit
from template_tools.projects import flask_run

pytestmark = pytest.mark.slow

# What the browser computed for the page: the stylesheet's marks, if it was applied.
STYLE_PROBE = """JSON.stringify({
    background: getComputedStyle(document.body).backgroundColor,
    mainWidth: getComputedStyle(document.querySelector("main")).maxWidth,
    title: document.title,
})"""


def rgb(hex_color):
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


def test_the_home_page_loads_with_its_stylesheet_applied_and_no_console_error(
    render, venv_for, tmp_path, record_property
):
    project = shutil.copytree(render(db_init_strategy="lazy"), tmp_path / "project")
    stylesheet = project / "public" / "static" / "app.css"
    paper = re.search(r"--paper: (#[0-9a-f]{6});", stylesheet.read_text())[1]
    try:
        with flask_run(project, venv_for("3.12")) as base, browser() as chromium:
            page = visit(chromium, f"{base}/", STYLE_PROBE)
            # The negative control: the same page with its stylesheet gone.
            stylesheet.rename(tmp_path / "app.css")
            unstyled = visit(chromium, f"{base}/", STYLE_PROBE)
    except BrowserUnavailable as reason:
        if REQUIRED:
            pytest.fail(f"CI must run this test: {reason}")
        pytest.skip(str(reason))
    (tmp_path / "home.png").write_bytes(page.screenshot)
    record_property("browser_check", f"{page.status} {page.responses} {page.console} {page.evaluated}")

    assert page.status == 200
    assert page.responses[f"{base}/static/app.css"] == 200
    assert page.console == []
    assert page.evaluated == f'{{"background":"{rgb(paper)}","mainWidth":"672px","title":"Acme Notes"}}'
    assert page.screenshot.startswith(b"\x89PNG")

    assert unstyled.responses[f"{base}/static/app.css"] == 404
    assert any("404" in line for line in unstyled.console), unstyled.console
    assert rgb(paper) not in unstyled.evaluated
