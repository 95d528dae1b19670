"""Imported by the upload parser's fork server.

It loads the readers and the knowledge base once, so that every parsing child starts with
them.
"""

from oncoresist.server._uploads import warm

warm()
