"""``blue-index lsp``: a language server for dialogue files (pygls, stdio).

Modules: ``workspace`` (files on disk and in the index, open buffers merged over them,
assembled dialogues), ``text`` (positions and ranges), ``navigate`` (hover, definition,
references), ``complete`` (completion), ``actions`` (quick fixes), ``symbols`` (outline and
search), ``server`` (the pygls wiring). pygls is imported only by ``server``, which only
the ``lsp`` command imports.
"""
