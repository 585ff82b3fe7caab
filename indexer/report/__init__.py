"""See a dialogue: ``blue-index report`` (a static site) and ``blue-index serve`` (the same
pages, live from the store).

- ``pages``: one dialogue's items -> the dicts the templates show (anchors, timeline lanes,
  convergence series, search rows);
- ``svg``: the tension timeline and the convergence chart as inline SVG;
- ``markdown``: bodies -> safe HTML (markdown-it-py, raw HTML off, link schemes checked);
- ``site``: Jinja2 templates (autoescape on) and ``build`` (writes the site);
- ``serve``: the pages over HTTP on loopback, re-rendered when the store changes.

Everything reads through the store's read methods and the views; nothing here writes the
store. jinja2 is imported only by ``site``.
"""
