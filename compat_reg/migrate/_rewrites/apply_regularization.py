"""``apply_regularization(regularizer, weights_list=None)``.

Keras has no counterpart (it sums a penalty over a list and, in graph mode,
adds it to the ``REGULARIZATION_LOSSES`` collection), so both targets use
``compat_reg.apply_regularization`` with the arguments as they were; under
``--target keras`` the regularizer inside is converted like any other.
Weights taken from the ``WEIGHTS`` collection are reported by _hazards.
"""
from __future__ import annotations

from typing import Optional

import libcst as cst

from compat_reg.migrate._helpers import Context, qualify

NAMES = frozenset(("apply_regularization",))


def rewrite(ctx: Context, name: str, original: cst.Call,
            updated: cst.Call) -> Optional[cst.BaseExpression]:
    return qualify(ctx, updated, name)
