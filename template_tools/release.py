"""Tag a release of the template: ``python -m template_tools.release`` (README.md, Releases).

It makes the tag ``vX.Y.Z`` of CHANGELOG.md's newest entry on the commit checked out, annotated
with the entry, and tags the releases made before there were tags at the commits their entries
record. It refuses, saying why, a tree with uncommitted changes, a tag that exists, changes still
under [Unreleased], and any disagreement between the changelog and the template (a doctor version
that is not the release's, a question added or an answer retired without its line). It pushes nothing.
"""

import argparse
import subprocess
import sys
from pathlib import Path

from .changelog import Changelog, disagreements, release_commit


class Refused(Exception):
    """Why no tag was made."""


def git(root, *arguments):
    """git as the maintainer runs it: their identity signs the tags."""
    result = subprocess.run(["git", *arguments], cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        raise Refused(f"git {' '.join(arguments)} failed: {result.stderr.strip()}")
    return result.stdout


def plan(root):
    """[(tag, commit, entry)] to make, the newest release last; raises Refused."""
    if problems := disagreements(root):
        raise Refused("CHANGELOG.md and the template disagree:\n- " + "\n- ".join(problems))
    if dirty := git(root, "status", "--porcelain").strip():
        raise Refused(f"the tree has uncommitted changes; commit or stash them first:\n{dirty}")
    changelog = Changelog.read(root)
    unreleased = changelog.unreleased
    if unreleased and unreleased.has_changes():
        raise Refused(
            "[Unreleased] lists changes that this commit holds: move them under a new release entry "
            "(and give doctor/pyproject.toml its version), commit, and run this again"
        )
    newest, *earlier = changelog.releases
    if existing := release_commit(root, newest):
        raise Refused(
            f"{newest.tag} exists already (at {existing[:12]}): for a new release, add its entry above "
            f"{newest.version} and give doctor/pyproject.toml its version"
        )
    tags = [
        (entry.tag, entry.recorded_commit, entry)
        for entry in reversed(earlier)
        if not git(root, "tag", "--list", entry.tag).strip()
    ]
    return [*tags, (newest.tag, git(root, "rev-parse", "HEAD").strip(), newest)]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m template_tools.release", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--dry-run", action="store_true", help="say what would be tagged, tag nothing")
    options = parser.parse_args(argv)
    try:
        root = Path(git(Path.cwd(), "rev-parse", "--show-toplevel").strip())
        tags = plan(root)
        for tag, commit, entry in tags:
            if not options.dry_run:
                message = f"copier-vercel-flask {entry.version}\n\n{entry.text}\n"
                git(root, "tag", "--annotate", "--cleanup=verbatim", "--message", message, tag, commit)
            print(f"{'Would tag' if options.dry_run else 'Tagged'} {tag} at {commit[:12]}")
    except Refused as reason:
        print(f"No release: {reason}", file=sys.stderr)
        return 1
    if not options.dry_run:
        print(f"Publish: git push origin {' '.join(tag for tag, _, _ in tags)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
