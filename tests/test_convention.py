"""The one table of the contrib convention against what reads it, and
against contrib itself (TF 1.x) or tf_slim, its maintained port."""

import inspect

import numpy as np
import pytest
import tensorflow as tf

import compat_reg
from compat_reg import contrib, convention
from golden_support import contrib_reference, evaluate


REFERENCE = contrib_reference()


def _params(function):
    return tuple((p.name, convention.REQUIRED if p.default is inspect.Parameter.empty
                  else p.default)
                 for p in inspect.signature(function).parameters.values())


def test_every_reader_offers_the_table_names():
    names = set(convention.NAMES)
    assert names <= set(compat_reg.__all__)
    assert set(contrib.PROVIDED) == names
    assert names <= set(contrib.__all__)


@pytest.mark.parametrize("name", convention.NAMES)
def test_signatures_are_the_tables(name):
    assert _params(getattr(compat_reg, name)) == convention.FACTORY[name].params


@pytest.mark.skipif(REFERENCE is None, reason="needs tf_slim, the TF2 port of contrib")
@pytest.mark.parametrize("name", convention.NAMES)
def test_table_agrees_with_contrib_or_tf_slim(name):
    """The table's names, parameters and defaults are contrib's."""
    assert _params(getattr(REFERENCE, name)) == convention.FACTORY[name].params


@pytest.mark.skipif(REFERENCE is None, reason="needs tf_slim, the TF2 port of contrib")
@pytest.mark.parametrize("factory", [f for f in convention.FACTORIES if f.scales],
                         ids=lambda f: f.name)
def test_factors_reproduce_contrib(factory):
    """Keras' sum(|w|) and sum(w**2), times the table's factors, are what
    contrib's factory computes with the same scales."""
    w = np.linspace(-1.5, 2.0, 24).astype(np.float64)
    scales = [0.25 * (i + 1) for i in range(len(factory.scales))]
    expected = evaluate(getattr(REFERENCE, factory.name)(*scales)(tf.constant(w)))
    keras_terms = {"l1": np.sum(np.abs(w)), "l2": np.sum(w ** 2)}
    keras = convention.to_keras(factory.name, *scales)
    got = sum(factor * keras_terms[arg] for arg, factor in keras.items())
    assert got == pytest.approx(float(expected), rel=1e-12)
