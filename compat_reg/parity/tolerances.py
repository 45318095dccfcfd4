"""Every numerical bound of the parity harness, each with its justification.

All differences are relative: ``|a - b| / max(|b|, FLOOR)`` per step for a
curve, ``||a - b|| / ||b||`` per variable for final weights. Change a bound
here and nowhere else; the report prints the bound it used.
"""

from __future__ import absolute_import, division, print_function

# Below this a reference value counts as zero (a regulariser-free run has a
# penalty of exactly 0.0; float32 noise on O(1) losses is ~1e-7).
FLOOR = 1e-12

# Step-0 penalty: same weights, same formula; float32 sums over ~85k weights
# in a different order differ by a few ulps (measured ~1e-7).
PENALTY_STEP0 = 1e-6

# Step-0 data loss: same weights and batch, one forward pass; anything above a
# few ulps means the models did not start from the same weights or inputs.
DATA_STEP0 = 1e-5

# Whole per-step curves with compat_reg's TF1-exact optimizers: float32
# differences of the forward pass grow during training; measured ~1e-6 (plain
# SGD, momentum) to ~3e-4 (SGD under strong L2) on TF 2.21, so 1e-3 leaves
# 3x margin without hiding a wrong port (those are off by >1e-2 or at step 0).
CURVE_EXACT = 1e-3

# Final weights, relative L2 norm per variable, exact optimizers: the weights
# carry the curves' float32 drift, largest in small-norm biases; measured
# 7e-5 with TF's deterministic kernels (the CLI) and 1.1e-3 without (tests),
# both on sgd_l2's dense_0/bias; 5e-3 leaves ~4x margin.
WEIGHTS_EXACT = 5e-3
# It also holds a systematic difference no port can remove on Keras 3:
# Keras 3's BatchNormalization averages the biased batch variance into its
# moving variance, TF1's fused batch norm (and tf_keras) the Bessel-corrected
# one, so the moving variance ends (n - 1) / n of TF1's, n = the values per
# channel in a batch: convnet_bn's 32 x 8 x 8 = 2048 gives 4.9e-4 (measured
# 4.88e-4, TF 2.21; 3e-7 with tf_keras). A dense batch norm on a batch of 32
# would be 3.1e-2 away: there prove the port with tf_keras or a larger batch.

# Native Keras optimizers (``--optimizers keras``): the same algorithm but a
# different float32 evaluation order of the update. Keras Adam amplifies it:
# measured on adam_l2 (TF 2.21) 7e-4 on the curves and 2.7e-3 on the final
# weights, and 6e-3..2.2e-2 on longer Adam runs in the golden README; SGD and
# momentum stay within the exact bound. 5e-2 covers the worst with 2x margin.
CURVE_KERAS = 5e-2
WEIGHTS_KERAS = 5e-2

# Test accuracy per epoch: 360 test images, so one image near the decision
# boundary flipping is 1/360; curves within 1e-3 cannot move more than that.
ACCURACY = 1.0 / 360 + 1e-9

# Hyperparameters read back from the optimizer objects (lr, momentum, betas,
# epsilon) must equal the workload's up to float32 rounding of the value.
HPARAM = 1e-6

# A few float32 optimizer updates or a short float32 training run against
# the same arithmetic done independently (TF1's own optimizers, the update
# formula in float64 numpy): weights and losses of O(1) round at ~6e-8 per
# op (2**-24), so a handful of ops stay well under 1e-6; measured 0.0 against
# TF1's optimizers and <2e-7 against numpy (tests/test_optimizers.py).
FLOAT32_UPDATE = 1e-6

# "about 2x" / "about 1x" when naming a cause from a step-0 ratio.
RATIO = 1e-3


def curve_bound(optimizers):
    """The per-step curve bound for ``optimizers`` ('exact' or 'keras')."""
    return CURVE_KERAS if optimizers == "keras" else CURVE_EXACT


def weights_bound(optimizers):
    """The final-weight bound for ``optimizers`` ('exact' or 'keras')."""
    return WEIGHTS_KERAS if optimizers == "keras" else WEIGHTS_EXACT


# Keras 3 on JAX and PyTorch (issue 29), compat_reg's regularizers and its
# keras.ops TF1 optimizers (compat_reg.optimizers.portable), against real TF
# 1.15 over all steps (benchmarks/keras3_backends.py). None is looser than
# TF's: SGD/momentum runs that are not chaotic, curves and weights; the
# chaotic ones (keras_backends.CHAOTIC: one float32 ulp on half the initial
# weights moves TF's own run past these, sgd_l2 between 2e-7 and 5.7e-5)
# keep CURVE_EXACT / WEIGHTS_EXACT. Keras' own SGD/momentum measured
# 6.8e-7..9.0e-7 there. float64 workloads on JAX need ``jax_enable_x64``
# (else JAX holds float32).
BACKEND_CURVE = 1e-6
BACKEND_WEIGHTS = 1e-5
# TF1-exact Adam, 220 steps (measured 2.7e-6 on every backend, issue 29).
BACKEND_ADAM_CURVE = 3e-6
BACKEND_ADAM_WEIGHTS = 1e-4
# One backend's run against another's, same workload, exact optimizers
# (issue 29): the total-loss curve. Missed on an AVX-512 EPYC by sgd_none,
# adamw and momentum_l1_l2 (4.2e-7..1.26e-6), and so is TF 2.21 against
# itself once only its first matmul sums in another order (up to 8.1e-7 on
# sgd_none): on those workloads (keras_backends.SUMMATION_ORDER) a pair past
# it is reported as a stated difference up to twice the bound against TF
# 1.15 above (each run within it of TF 1.15), never as ok (README, "Keras 3
# on JAX and PyTorch").
BACKEND_VS_BACKEND = 4e-7
