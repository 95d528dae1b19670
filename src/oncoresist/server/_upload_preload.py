"""Imported by the upload worker's fork server.

It loads the readers, the knowledge base and what storing an upload needs (the store, the
monitoring calls and the patient page) once, so that every worker starts with them.
"""

import oncoresist.server._pages  # noqa: F401
from oncoresist.server._uploads import warm

warm()
