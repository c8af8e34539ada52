"""GitHub workflow files as data."""

from pathlib import Path

import yaml


def load_workflow(path):
    """A GitHub workflow file as a dict, its triggers under "on"."""
    workflow = yaml.safe_load(Path(path).read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads a bare `on:` as True
    return workflow
