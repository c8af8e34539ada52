"""Both passes together: what Vercel would serve, and everything that breaks or slows it there."""

from dataclasses import dataclass, field

from . import entrypoint as entrypoints
from .findings import CouldNotRun, Report, merged
from .imports import DEFAULT_TIMEOUT, check_import
from .project import Project
from .static import check_project


@dataclass
class Diagnosis(Report):
    root: object
    entrypoints: list = field(default_factory=list)  # usually one; legacy builds may name several
    findings: list = field(default_factory=list)
    imports: list = field(default_factory=list)  # an ImportReport per entrypoint, empty when static only

    @property
    def entrypoint(self):
        """The Entrypoint Vercel serves (file, module, variable, how), or None when it finds none."""
        return self.entrypoints[0] if self.entrypoints else None


def diagnose(project_root, *, python=None, env=None, timeout=DEFAULT_TIMEOUT, static_only=False):
    """Resolve the entrypoint as Vercel does, read the code it imports, then import it (unless static_only).

    Raises CouldNotRun when the project is not a directory or no interpreter can run its code.
    """
    project = Project(project_root)
    if not project.root.is_dir():
        raise CouldNotRun(f"could not run: {project.root} is not a directory; give the project's root")
    resolution = entrypoints.resolve(project)
    static = check_project(project, resolution)
    diagnosis = Diagnosis(project.root, resolution.entrypoints)
    if not static_only:
        for entrypoint in resolution.entrypoints:
            report = check_import(
                project.root, python=python, env=env, timeout=timeout, entrypoint=entrypoint
            )
            diagnosis.imports.append(report)
    dynamic = [finding for report in diagnosis.imports for finding in report.findings]
    # The import pass proves what the static pass suspects: its finding at a line comes first.
    diagnosis.findings = merged(
        resolution.findings, dynamic, without_suspicions(static, [*resolution.findings, *dynamic])
    )
    return diagnosis


def without_suspicions(static, proven):
    """Static warnings, less those at a line where the resolution or the import pass reported something."""
    proven = {finding.where for finding in proven}
    return [finding for finding in static if finding.is_error or finding.where not in proven]
