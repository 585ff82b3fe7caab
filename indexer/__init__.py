"""blue-index: parse alignment-dialogue Markdown files and keep a queryable index of them."""

__version__ = "0.1.0"
