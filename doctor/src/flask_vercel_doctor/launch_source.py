"""Start a project from its sources as the trampoline `vercel build` writes would (run by path).

    python launch_source.py ROOT ENTRY_FILE MODULE VARIABLE

Sets what `vc__handler__python.py` sets, then imports Vercel's runtime, which serves the app.
Run by the project's own interpreter, so it imports nothing but the standard library first.
"""

import os
import sys
import time

root, entry_file, module_name, variable = sys.argv[1:5]
os.environ.update(
    {
        "__VC_PY_BOOT_START_MS": str(int(time.monotonic() * 1000)),
        "__VC_HANDLER_MODULE_NAME": module_name,
        "__VC_HANDLER_ENTRYPOINT": entry_file,
        "__VC_HANDLER_ENTRYPOINT_ABS": os.path.join(root, entry_file),
        "__VC_HANDLER_VENDOR_DIR": "_vendor",
        "__VC_HANDLER_VARIABLE_NAME": variable,
    }
)
sys.path[0] = root  # the project, where this script's own directory would be
try:
    import vercel_runtime.vc_init  # noqa: F401  (serves until the platform stops it)
except ModuleNotFoundError as missing:
    if missing.name != "vercel_runtime":
        raise
    sys.exit(f"{sys.executable} has no vercel-runtime: add it to the project's dev dependencies")
