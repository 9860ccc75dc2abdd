"""Sequence scripts: one module per claimed method, each registering itself with `@method`.

The engine (`packline.sequences.engine`) finds every module here on first use, so adding a
method is adding a module (and its default recipe under `recipes/`).
"""
