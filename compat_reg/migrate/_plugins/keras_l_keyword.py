"""``tf.keras.regularizers.l2(l=...)`` and ``l1(l=...)``: what ``tf_upgrade_v2``
writes for contrib's regularizers, and a TypeError on Keras 3, whose
``L1``/``L2`` take ``l1=``/``l2=`` (as Keras 2's did besides ``l``).

Only the keyword is renamed: ``l2(l=0.5 * (0.01))`` ->
``l2(l2=0.5 * (0.01))``. The value is already in Keras' convention
(``tf_upgrade_v2`` wrote the ``0.5 *``), so it is not halved again; a
second run, of either tool, finds nothing to do.
"""
from __future__ import annotations

from compat_reg import convention
from compat_reg.migrate._names import keras_regularizer
from compat_reg.migrate._plugins import register

# the single-keyword classes: ``l2`` -> ``l2``, ``L1`` -> ``l1``
_KEYWORD = {alias: convention.KERAS_CLASSES[cls][0]
            for alias, cls in list(convention.KERAS_ALIASES.items())
            + [(c, c) for c in convention.KERAS_CLASSES]
            if len(convention.KERAS_CLASSES[cls]) == 1}


def match(names, qualname, call):
    name = keras_regularizer(qualname)
    if name in _KEYWORD and any(k.arg == "l" for k in call.keywords):
        return name
    return None


@register("keras_l_keyword", tuple(_KEYWORD), match)
def rewrite(ctx, seen, name: str) -> bool:
    keyword = next(k for k in seen.node.keywords if k.arg == "l")
    start = ctx.source.offset(keyword.lineno, keyword.col_offset)
    ctx.edits.add(start, start + 1, _KEYWORD[name])
    return True
