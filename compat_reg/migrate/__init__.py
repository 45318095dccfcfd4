"""``compat-reg migrate``: rewrite TF1 regularization code for TF2.

CPython's own parser (``ast``) finds the sites; the edits are made on exact
spans of the text, so text the tool does not change is never re-rendered
(the approach of pyupgrade and tokenize-rt). Only the standard library is
needed; the code is never imported or run. See ``compat_reg.migrate.cli``
for the command line and ``_plugins/`` for what is rewritten.
"""
