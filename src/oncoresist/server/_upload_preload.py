"""Imported by the upload worker's fork server.

It loads the readers, the knowledge base and what storing an upload needs (the store, the
monitoring calls and the patient page) once, so that every worker starts with them.
"""

import scipy.stats  # noqa: F401  (the monitor's calls import it lazily; load it once here)

import oncoresist.server._pages  # noqa: F401
from oncoresist.server._uploads import warm

warm()
