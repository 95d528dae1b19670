"""The upload fork server preloads what every upload job needs, so no job pays for imports
(the command line no longer pulls the whole stack in, so the preload must name it)."""

from __future__ import annotations

import subprocess
import sys


def test_the_fork_server_preload_holds_the_monitor_and_scipy_stats():
    code = (
        "import sys; import oncoresist.server._upload_preload; "
        "print(all(m in sys.modules for m in ('scipy.stats', 'oncoresist.monitor', "
        "'oncoresist.variants', 'oncoresist.store')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
