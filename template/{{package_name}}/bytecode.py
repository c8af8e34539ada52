"""Bytecode for every cold start on Vercel, however the deployment was built.

Vercel's builder ships bytecode only when VERCEL_PYTHON_COMPILEALL is set for the build; without it
each cold start compiles every module it imports, most of its start-up time. The build step calls
``compile_for_vercel()``, which compiles the app and the dependencies that ship into
``_bytecode/``, laid out for the function's place on Vercel (/var/task). Importing this module,
first thing in the factory module, points Python at it there. Anywhere else (your machine, the
tests) the layout does not match, so nothing changes and nothing is written into it.
"""

import os
import sys

BYTECODE_DIR = "_bytecode"
PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUNCTION_ROOT = "/var/task"  # where Vercel unpacks the function
VENDOR_DIR = "_vendor"  # where its dependencies sit there

if os.path.isdir(os.path.join(PROJECT, BYTECODE_DIR, PROJECT.lstrip(os.sep))):
    sys.pycache_prefix = os.path.join(PROJECT, BYTECODE_DIR)


def compile_for_vercel():
    """Compile this package and the installed dependencies as Python will look them up on Vercel."""
    import importlib.util
    import py_compile
    import shutil
    import sysconfig
    from pathlib import Path

    output = Path(PROJECT, BYTECODE_DIR)
    shutil.rmtree(output, ignore_errors=True)
    sys.pycache_prefix = str(output)  # cache_from_source() then names the files the runtime looks for
    trees = {
        Path(sysconfig.get_paths()["purelib"]): Path(FUNCTION_ROOT, VENDOR_DIR),
        Path(__file__).parent: Path(FUNCTION_ROOT, Path(__file__).parent.name),
    }
    compiled = 0
    for tree, on_vercel in trees.items():
        for source in tree.rglob("*.py"):
            runtime_path = on_vercel / source.relative_to(tree)
            py_compile.compile(
                str(source),
                cfile=importlib.util.cache_from_source(str(runtime_path)),
                dfile=str(runtime_path),
                doraise=False,
                quiet=2,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
            compiled += 1
    print(f"bytecode: {compiled} modules compiled into {BYTECODE_DIR}/ for {FUNCTION_ROOT}")
