"""Bytecode for every cold start on Vercel, however the deployment was built.

Vercel's builder ships bytecode only when VERCEL_PYTHON_COMPILEALL is set for the build; without it
each cold start compiles every module it imports, most of its start-up time. The build step calls
``compile_for_vercel()``, which compiles the app and the dependencies that ship into ``_bytecode/``,
laid out for the function's place on Vercel (/var/task). Imported first thing in the factory
module, this module then lets the modules under /var/task load from there (the standard library
keeps its own). Anywhere else (your machine, the tests) the layout does not match: nothing changes.
"""

import importlib.machinery
import importlib.util
import marshal
import os
import sys

BYTECODE_DIR = "_bytecode"
PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = os.path.join(PROJECT, BYTECODE_DIR)
FUNCTION_ROOT = "/var/task"  # where Vercel unpacks the function
VENDOR_DIR = "_vendor"  # where its dependencies sit there


def shipped_bytecode_path(source_path, prefix=SHIPPED):
    """Where the build step put the bytecode of ``source_path`` (as ``sys.pycache_prefix`` lays it out)."""
    directory, name = os.path.split(source_path)
    stem = name.rpartition(".")[0]
    return os.path.join(prefix, directory.lstrip(os.sep), f"{stem}.{sys.implementation.cache_tag}.pyc")


class ShippedBytecodeLoader(importlib.machinery.SourceFileLoader):
    """Loads a module from the build step's bytecode, or compiles its source when there is none."""

    def get_code(self, fullname):
        path = shipped_bytecode_path(self.path)
        try:
            with open(path, "rb") as compiled:
                data = compiled.read()
        except OSError:
            return super().get_code(fullname)
        if data[:4] != importlib.util.MAGIC_NUMBER:  # another Python built it
            return super().get_code(fullname)
        if sys.flags.verbose:  # as Python's own loader reports it under -v
            print(f"# code object from {path!r}", file=sys.stderr)
        return marshal.loads(memoryview(data)[16:])  # after the header: magic, flags, source hash


def in_project(path_entry):
    """Whether a ``sys.path`` entry (relative ones too: Vercel sets PYTHONPATH=_vendor) is in the project."""
    path = os.path.abspath(path_entry or os.curdir)
    return path == PROJECT or path.startswith(PROJECT + os.sep)


def shipped_file_finder(path_entry):
    """``sys.path_hooks`` entry: a directory of the project gets a finder that uses the loader above.

    A hook, not a ``sys.meta_path`` finder: a module found nowhere (Vercel's runtime looks for an
    optional package on every request) then costs one search of ``sys.path``, as it does without it.
    """
    if not in_project(path_entry):
        raise ImportError  # not ours: the next hook takes it
    return importlib.machinery.FileFinder(
        path_entry,
        (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES),
        (ShippedBytecodeLoader, importlib.machinery.SOURCE_SUFFIXES),
        (importlib.machinery.SourcelessFileLoader, importlib.machinery.BYTECODE_SUFFIXES),
    )


if os.path.isdir(os.path.join(SHIPPED, PROJECT.lstrip(os.sep))):
    sys.path_hooks.insert(0, shipped_file_finder)
    for entry in [entry for entry in sys.path_importer_cache if in_project(entry)]:
        del sys.path_importer_cache[entry]  # finders made before the hook: the next import makes ours


def compile_for_vercel():
    """Compile this package and the installed dependencies for where they will be on Vercel."""
    import py_compile
    import shutil
    import sysconfig
    from pathlib import Path

    output = Path(SHIPPED)
    shutil.rmtree(output, ignore_errors=True)
    trees = {
        Path(sysconfig.get_paths()["purelib"]): Path(FUNCTION_ROOT, VENDOR_DIR),
        Path(__file__).parent: Path(FUNCTION_ROOT, Path(__file__).parent.name),
    }
    compiled = 0
    for tree, on_vercel in trees.items():
        for source in tree.rglob("*.py"):
            runtime_path = str(on_vercel / source.relative_to(tree))
            py_compile.compile(
                str(source),
                cfile=shipped_bytecode_path(runtime_path, prefix=str(output)),
                dfile=runtime_path,
                doraise=False,
                quiet=2,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
            compiled += 1
    print(f"bytecode: {compiled} modules compiled into {BYTECODE_DIR}/ for {FUNCTION_ROOT}")
