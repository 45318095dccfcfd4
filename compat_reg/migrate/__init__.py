"""``compat-reg migrate``: rewrite TF1 regularization code for TF2.

Reads source as text with libcst (formatting and comments survive); never
imports or runs it. See ``compat_reg.migrate.cli`` for the command line and
``_rewrites/`` for what is rewritten.
"""
