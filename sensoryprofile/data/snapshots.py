"""Where report kernels find the checked datasets their parent keeps.

Standard library only: a command names the folder in a kernel's environment
before it imports pandas, so the kernel can start (and import) at once. The
snapshots themselves are written and read by
:func:`sensoryprofile.data.dataset.write_snapshot` and
:func:`sensoryprofile.data.dataset.load_dataset_cached`.
"""

from __future__ import annotations

#: The environment variable that names a kernel's folder of checked datasets.
SNAPSHOT_ENV = "SENSORYPROFILE_DATASET_SNAPSHOTS"

__all__ = ["SNAPSHOT_ENV"]
