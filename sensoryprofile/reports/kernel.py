"""The kernel a report runs in: IPython's kernel (ipykernel), started as
``python -m ipykernel_launcher`` starts it, but without its debugger.

ipykernel imports ``debugpy`` while it starts (about 0.2 s here), so that a
front end can debug cells. Nothing of a report runs before its kernel is
ready, so that import delays every report, and a report's kernel is driven
by papermill, which never debugs. Blocking the import makes ipykernel start
without the debugger, as it does wherever debugpy is not installed.
(``make lab`` uses the installed kernel spec: the debugger is there.)

    python -m sensoryprofile.reports.kernel -f CONNECTION_FILE
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> None:
    # as ipykernel_launcher does: the working folder leaves sys.path while the
    # kernel loads (IPython puts it back for the notebook's code)
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]
    sys.modules["debugpy"] = None  # `import debugpy` raises ImportError: no debugger
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
