"""Start a function `vercel build` made, as the platform does: import its handler module (run by path).

python -S -s launch_built.py TASK_ROOT HANDLER_MODULE
"""

import importlib
import sys

sys.path[0] = sys.argv[1]  # the task root, where this script's own directory would be
importlib.import_module(sys.argv[2])
