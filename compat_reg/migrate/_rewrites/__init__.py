"""One module per rewrite, the way pyupgrade has ``_plugins/``.

Each module has ``NAMES`` (what it rewrites: canonical callee names or
``'collection'``) and ``rewrite(ctx, name, original, updated)`` returning the
replacement expression, or None to leave the call alone.
"""
