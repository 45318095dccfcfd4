"""``apply_regularization(regularizer, weights_list=None)``.

Keras has no counterpart (it sums a penalty over a list and, in graph mode,
adds it to the ``REGULARIZATION_LOSSES`` collection), so both targets use
``compat_reg.apply_regularization`` with the arguments as they were; under
``--target keras`` the regularizer inside is converted like any other.
Weights taken from the ``WEIGHTS`` collection are reported as a hazard.
"""
from __future__ import annotations

from compat_reg.migrate._names import contrib_factory
from compat_reg.migrate._plugins import register
from compat_reg.migrate._plugins.regularizer_calls import qualify


def match(names, qualname, call):
    name = contrib_factory(qualname)
    return name if name == "apply_regularization" else None


@register("regularizer", ("apply_regularization",), match)
def rewrite(ctx, seen, name: str) -> bool:
    return qualify(ctx, seen.node, name)
