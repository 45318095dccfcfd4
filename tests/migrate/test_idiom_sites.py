"""Issue 25: every site of every TF1 regularization idiom is reported (a note
naming the fix) or rewritten, at its line, and nothing else is.

Generated as a cross product: idiom variant (spellings, aliases, keys, with
and without ``tf.add_n``) x import style (``tf.X``, ``tensorflow.compat.v1 as
tf``, ``tf.compat.v1.X``, a ``v1`` alias, from-imports; slim reached four
ways) x file split (one file, or ``model.py`` adding what ``train.py``
reads). Each case is one ``compat-reg migrate --json`` run, as a user runs
it; the expected sites are written beside the lines of the templates
below, so an expectation never comes from the tool.
"""
import ast
import json
import re

import pytest

from compat_reg.migrate.cli import main

# note codes of the idioms (issue 25); "rw:<kind>" is a site rewritten
IDIOM_CODES = {"loss-collection", "manual-add", "collection-read", "get-total-loss",
               "weight-decay", "arg-scope", "half-l2", "contrib-accessor"}

# style -> (import lines, spelling of a tf.compat.v1 name, of tf.keras, slim import)
STYLES = {
    "tf": ("import tensorflow as tf", "tf.", "tf.", "slim = tf.contrib.slim"),
    "compat.v1 as tf": ("import tensorflow.compat.v1 as tf", "tf.", "tf.",
                        "import tf_slim as slim"),
    "tf.compat.v1": ("import tensorflow as tf", "tf.compat.v1.", "tf.",
                     "from tensorflow.contrib import slim"),
    "v1 alias": ("import tensorflow as tf\nv1 = tf.compat.v1", "v1.", "tf.",
                 "import tensorflow.contrib.slim as slim"),
    "from-imports": (None, "", "", "import tf_slim as slim"),
}
PREAMBLE = ["wd = 0.0004", "w = <get_variable>('w', [3, 3])", "ce = <reduce_mean>(w)"]

# variant -> (lines of model.py, lines of train.py, extra imports); a line is
# text, or (text, expected code or "rw:<site kind>", ...)
R = "<GraphKeys.REGULARIZATION_LOSSES>"
VARIANTS = {
    # (1) direct reads of REGULARIZATION_LOSSES
    "read": ([], [("r = <get_collection>(%s)" % R, "rw:collection_read")], ()),
    "read add_n": ([], [("r = <add_n>(<get_collection>(%s))" % R, "rw:collection_read")], ()),
    "read scope": ([], [("r = <add_n>(<get_collection>(%s, 'enc'))" % R,
                         "rw:collection_read")], ()),
    "read string key": ([], [("r = <get_collection>('regularization_losses')",
                              "rw:collection_read")], ()),
    "read constant key": ([], ["REG_KEY = 'regularization_losses'",
                           ("r = <add_n>(<get_collection>(REG_KEY))", "rw:collection_read")],
                          ()),
    "read aliased get_collection": ([], ["gc = <get_collection>",
                                         ("r = <add_n>(gc(%s))" % R, "rw:collection_read")],
                                    ()),
    "read ops.GraphKeys": ([], [("r = ops.get_collection(ops.GraphKeys."
                                 "REGULARIZATION_LOSSES)", "rw:collection_read")],
                           ("from tensorflow.python.framework import ops",)),
    "read get_regularization_loss": ([], [("r = <losses.get_regularization_loss>()",
                                           "rw:collection_read")], ()),
    "read through a graph": ([], [("r = <get_default_graph>().get_collection(%s)" % R,
                                   "collection-read")], ()),
    "read through a project's module": (
        [], [("r = <add_n>(tfv1.get_collection(tfv1.GraphKeys.REGULARIZATION_LOSSES))",
              "collection-read")], ("from .compat import tfv1",)),
    "read through a project's method": (
        [], ["tower = make_tower()",
             ("r = tower.get_collection_in_tower(%s)" % R, "collection-read"),
             ("r2 = tower.get_collection_by_scope('regularization_losses', 'enc')",
              "collection-read")], ()),
    "read get_collection_ref": ([], [("r = <add_n>(<get_collection_ref>(%s))" % R,
                                      "collection-read")], ()),
    # (2) hand-made collections: added in model.py, summed in train.py
    "losses l2_loss": ([("<add_to_collection>('losses', wd * <nn.l2_loss>(w))",
                         "loss-collection")],
                       [("total = <add_n>(<get_collection>('losses'))", "loss-collection")],
                       ()),
    "losses regularizer": ([("reg = slim.l2_regularizer(0.1)", "rw:regularizer"),
                            ("<add_to_collection>('losses', reg(w))", "loss-collection")],
                           [("total = ce + <add_n>(<get_collection>('losses'))",
                             "loss-collection")], ()),
    "losses cifar10": (["weight_decay = <multiply>(<nn.l2_loss>(w), wd, name='weight_loss')",
                        ("<add_to_collection>('losses', weight_decay)", "loss-collection"),
                        ("<add_to_collection>('losses', ce)", "loss-collection")],
                       [("total = <add_n>(<get_collection>('losses'), name='total_loss')",
                         "loss-collection")], ()),
    "GraphKeys.LOSSES no add_n": (
        [("<add_to_collection>(<GraphKeys.LOSSES>, wd * <nn.l2_loss>(w))",
          "loss-collection")],
        [("terms = <get_collection>(<GraphKeys.LOSSES>)", "loss-collection")], ()),
    "own key python sum": ([("<add_to_collection>('l2_terms', <nn.l2_loss>(w))",
                             "loss-collection")],
                           [("total = ce + sum(<get_collection>('l2_terms'))",
                             "loss-collection")], ()),
    "own key read, not summed": ([("<add_to_collection>('reg_terms', <nn.l2_loss>(w))",
                                   "loss-collection")],
                                 [("terms = <get_collection>('reg_terms')", "loss-collection")],
                                 ()),
    "own key data loss, summed": ([("<add_to_collection>('my_total', ce)", "loss-collection")],
                                  [("total = <add_n>(<get_collection>('my_total'))",
                                    "loss-collection")], ()),
    "own constant key": (["KEY = 'decays'", ("<add_to_collection>(KEY, wd * <nn.l2_loss>(w))",
                                             "loss-collection")],
                         ["KEY = 'decays'", ("total = <add_n>(<get_collection>(KEY))",
                                             "loss-collection")], ()),
    "tf.losses.add_loss and get_losses": (
        [("<losses.add_loss>(ce)", "loss-collection")],
        [("total = <add_n>(<losses.get_losses>())", "loss-collection")], ()),
    "slim add_loss, slim get_total_loss": (
        [("slim.losses.add_loss(wd * <nn.l2_loss>(w))", "loss-collection")],
        [("total = slim.losses.get_total_loss()", "get-total-loss")], ()),
    # (3) adds to REGULARIZATION_LOSSES by hand
    "manual add_to_collection": ([("<add_to_collection>(%s, wd * <nn.l2_loss>(w))" % R,
                                   "manual-add")],
                                 [("r = <losses.get_regularization_loss>()",
                                   "rw:collection_read")], ()),
    "manual string key": ([("reg = slim.l2_regularizer(0.1)", "rw:regularizer"),
                           ("<add_to_collection>('regularization_losses', reg(w))",
                            "manual-add")],
                          [("r = <add_n>(<get_collection>(%s))" % R, "rw:collection_read")],
                          ()),
    "manual tf.losses.add_loss": (
        [("<losses.add_loss>(wd * <nn.l2_loss>(w), loss_collection=%s)" % R, "manual-add")],
        [("r = <losses.get_regularization_loss>()", "rw:collection_read")], ()),
    "manual slim add_loss": ([("slim.losses.add_loss(ce, loss_collection=%s)" % R,
                               "manual-add")],
                             [("r = slim.losses.get_regularization_losses()",
                               "rw:collection_read")], ()),
    "manual add_to_collections": (
        [("<add_to_collections>([%s, 'my_l2'], wd * <nn.l2_loss>(w))" % R,
          "manual-add", "loss-collection")],
        [("r = <add_n>(<get_collection>('my_l2'))", "loss-collection")], ()),
    "manual through a graph": ([("<get_default_graph>().add_to_collection(%s, ce)" % R,
                                 "manual-add")], [], ()),
    # (4) get_total_loss
    "get_total_loss": (["<losses.softmax_cross_entropy>(w, w)"],
                       [("total = <losses.get_total_loss>()", "get-total-loss")], ()),
    "get_total_loss True": ([], [("total = <losses.get_total_loss>("
                                  "add_regularization_losses=True)", "get-total-loss")], ()),
    "get_total_loss False": ([], [("total = <losses.get_total_loss>(False)",
                                   "get-total-loss")], ()),
    # (5) weight decay over the variable lists, with TF1 name filters
    "decay trainable_variables": (
        [], [("l2 = wd * <add_n>([<nn.l2_loss>(v) for v in <trainable_variables>() "
              "if 'bias' not in v.name])", "weight-decay")], ()),
    "decay global_variables": (
        [], [("l2 = wd * <add_n>([<nn.l2_loss>(v) for v in <global_variables>() "
              "if 'batch_normalization' not in v.name])", "weight-decay")], ()),
    "decay TRAINABLE_VARIABLES": (
        [], [("l2 = wd * <add_n>([<nn.l2_loss>(v) for v in "
              "<get_collection>(<GraphKeys.TRAINABLE_VARIABLES>)])", "weight-decay")], ()),
    "decay string key": (
        [], [("l2 = <add_n>([<nn.l2_loss>(v) for v in <get_collection>('trainable_variables')])",
              "weight-decay")], ()),
    "decay exclude_batch_norm": (
        [], ["def exclude_batch_norm(name):",
             "    return 'batch_normalization' not in name",
             "loss_filter_fn = exclude_batch_norm",
             "l2 = wd * <add_n>(",
             ("    [<nn.l2_loss>(<cast>(v, <float32>)) for v in <trainable_variables>()",
              "weight-decay"),
             "     if loss_filter_fn(v.name)])"], ()),
    "decay for loop": ([], ["l2 = 0.0", ("for v in <trainable_variables>():", "weight-decay"),
                            "    if 'bias' not in v.name:",
                            "        l2 += <nn.l2_loss>(v)"], ()),
    "decay list first": ([], [("tvars = <trainable_variables>()", "weight-decay"),
                              "l2 = <add_n>([<reduce_sum>(<square>(v)) for v in tvars])"], ()),
    "decay slim model variables": (
        [], [("l2 = <add_n>([<nn.l2_loss>(v) for v in slim.get_model_variables()])",
              "weight-decay")], ()),
    "decay apply_regularization": (
        [("reg = slim.l2_regularizer(0.1)", "rw:regularizer")],
        [("l2 = slim.apply_regularization(reg, <trainable_variables>())",
          "rw:regularizer", "weight-decay")], ()),
    "decay in a helper": (
        [], ["def weight_decay(rate, var_list):",
             "    terms = []",
             "    for v in var_list:",
             "        terms.append(<nn.l2_loss>(v))",
             "    return <add_n>(terms) * rate",
             "def with_decay(loss, var_list=None):",
             "    if var_list is None:",
             ("        var_list = <trainable_variables>()", "weight-decay"),
             "    decay_vars = [v for v in var_list if 'bias' not in v.name]",
             "    return loss + weight_decay(wd, decay_vars)",
             "total = with_decay(ce)"], ()),
    "decay with the penalty a parameter": (
        [], ["def regularize_cost(func):",
             ("    params = <trainable_variables>()", "weight-decay"),
             "    costs = []",
             "    for p in params:",
             "        regloss = func(p)",
             "        costs.append(regloss)",
             "    return <add_n>(costs)",
             "total = ce + regularize_cost(lambda v: wd * <nn.l2_loss>(v))"], ()),
    "decay with the penalty a parameter, comprehension": (
        [], ["def decay(penalty):",
             ("    return <add_n>([penalty(v) for v in <global_variables>()])", "weight-decay"),
             "total = ce + decay(lambda v: wd * <nn.l2_loss>(v))"], ()),
    "decay through a project's module": (
        [], [("l2 = wd * <add_n>([<nn.l2_loss>(v) for v in tfv1.trainable_variables()])",
              "weight-decay")], ("from .compat import tfv1",)),
    "decay in a helper, keyword": (
        [], ["def weight_decay(rate, var_list):",
             "    return rate * <add_n>([<nn.l2_loss>(v) for v in var_list])",
             ("total = ce + weight_decay(var_list=<trainable_variables>(), rate=wd)",
              "weight-decay")], ()),
    "decay in a helper's helper": (
        [], ["def l2_terms(weights):",
             "    return [<nn.l2_loss>(v) for v in weights]",
             "def weight_decay(rate, var_list):",
             "    return rate * <add_n>(l2_terms(var_list))",
             ("tvars = <global_variables>()", "weight-decay"),
             "total = ce + weight_decay(wd, tvars)"], ()),
    "slim.arg_scope": (
        [("with slim.arg_scope([slim.conv2d, slim.fully_connected],", "arg-scope"),
         ("                    weights_regularizer=slim.l2_regularizer(wd)):",
          "rw:regularizer"),
         "    net = slim.conv2d(w, 8, [3, 3])",
         "    net = slim.fully_connected(net, 10)"],
        [("r = <losses.get_regularization_loss>()", "rw:collection_read")], ()),
    "contrib.framework.arg_scope": (
        [("with arg_scope(list_ops_or_scope=[slim.conv2d], "
          "weights_regularizer=slim.l2_regularizer(wd),",
          "arg-scope", "rw:regularizer"),
         ("               biases_regularizer=slim.l1_regularizer(wd)):", "rw:regularizer"),
         "    net = slim.conv2d(w, 8, [3, 3])"],
        [("r = <losses.get_regularization_loss>()", "rw:collection_read")],
        ("from tensorflow.contrib.framework import arg_scope",)),
    "tf.contrib.framework.arg_scope": (
        [("with <contrib.framework.arg_scope>([<contrib.layers.conv2d>], weights_regularizer="
          "<contrib.layers.l2_regularizer>(wd)):", "arg-scope", "rw:regularizer"),
         "    net = <contrib.layers.conv2d>(w, 8, [3, 3])"],
        [("r = <losses.get_regularization_loss>()", "rw:collection_read")], ()),
    "arg_scope returned": (
        ["def net_arg_scope(weight_decay=0.0004):",
         ("    with slim.arg_scope([slim.conv2d], weights_regularizer="
          "slim.l2_regularizer(weight_decay)) as sc:", "arg-scope", "rw:regularizer"),
         "        return sc"],
        [("r = <losses.get_regularization_loss>()", "rw:collection_read")], ()),
    # (7) Keras' l2(s) where the run also has s * tf.nn.l2_loss(w)
    "half l2": ([("dense = <keras.layers.Dense>(10, kernel_regularizer="
                  "<keras.regularizers.l2>(wd))", "half-l2")],
                ["loss = ce + wd * <nn.l2_loss>(w)"], ()),
    "half L2 class, multiply": ([("dense = <keras.layers.Dense>(10, kernel_regularizer="
                                  "<keras.regularizers.L2>(wd))", "half-l2")],
                                ["loss = ce + <multiply>(<nn.l2_loss>(w), wd)"], ()),
    "half l1_l2": ([("reg = <keras.regularizers.l1_l2>(l1=0.0, l2=wd)", "half-l2")],
                   ["loss = ce + wd * <add_n>([<nn.l2_loss>(w)])"], ()),
    # (8) contrib's factory through a project's own accessor of contrib
    "contrib accessor call": (
        [("reg = contrib.layers().l2_regularizer(wd)", "contrib-accessor")],
        [("r = <losses.get_regularization_loss>()", "rw:collection_read")],
        ("from tensor2tensor.utils import contrib",)),
    "contrib accessor module": (
        [("reg = tfc.layers.l1_regularizer(scale=wd)", "contrib-accessor"),
         ("reg2 = tfc.layers.l1_l2_regularizer(wd, wd)", "contrib-accessor")],
        [("r = <losses.get_regularization_loss>()", "rw:collection_read")],
        ("import myproject.contrib as tfc",)),
    "contrib accessor attribute": (
        [("reg = utils.contrib.layers().l2_regularizer(wd)", "contrib-accessor")], [],
        ("from myproject import utils",)),
    # look-alikes: nothing to report
    "other keys through a project's method": (
        [], ["tower = make_tower()",
             "ops = tower.get_collection_in_tower(<GraphKeys.UPDATE_OPS>)",
             "mine = tower.get_collection_in_tower('my_key')",
             "upd = mod.get_collection(mod.GraphKeys.UPDATE_OPS)"], ("import mod",)),
    "a parameter called on each variable, not summed": (
        [], ["def visit(callback):",
             "    for v in <trainable_variables>():",
             "        callback(v)",
             "def visit_all(callback):",
             "    return [callback(v) for v in mod.trainable_variables()]"], ("import mod",)),
    "variables to a helper, no decay": (
        [], ["def log_sizes(var_list):",
             "    for v in var_list:",
             "        <summary.histogram>(v.name, v)",
             "def weight_decay(rate, var_list):",
             "    return rate * <add_n>([<nn.l2_loss>(v) for v in var_list])",
             "log_sizes(<trainable_variables>())",
             "total = ce + weight_decay(wd, [w])"], ()),
    "layers accessor, no contrib": (["reg = mylib.layers().l2_regularizer(wd)",
                                     "reg2 = mylib.contrib().l2_regularizer(wd)"],
                                    [], ("import mylib",)),
    "other scale": (["dense = <keras.layers.Dense>(10, kernel_regularizer="
                     "<keras.regularizers.l2>(0.5 * wd))"],
                    ["loss = ce + wd * <nn.l2_loss>(w)"], ()),
    "explicit l2_loss alone": ([], ["loss = ce + wd * <nn.l2_loss>(w)"], ()),
    "other collections": (["<add_to_collection>('train_op', ce)"],
                          ["ops = <get_collection>('train_op')",
                           "upd = <get_collection>(<GraphKeys.UPDATE_OPS>)"], ()),
    "variables, no decay": ([], ["grads = <gradients>(ce, <trainable_variables>())",
                                 "for v in <global_variables>():",
                                 "    <summary.histogram>(v.name, v)",
                                 "opt = <train.GradientDescentOptimizer>(0.1).minimize("
                                 "<reduce_mean>(<square>(w)), var_list=<trainable_variables>())"],
                            ()),
}
_NAME = re.compile(r"<([A-Za-z_][A-Za-z_0-9.]*)>")


def _spell(style, lines):
    """The lines in one import style, and the imports they need."""
    header, v1, keras, slim = STYLES[style]
    used = set()

    def q(match):
        name = match.group(1)
        if name.startswith("keras."):
            used.add(("keras", None))
            return keras + name
        used.add(("v1", name.partition(".")[0]))
        return v1 + name
    out = [(_NAME.sub(q, text),) + tuple(rest) for text, *rest in
           [(line,) if isinstance(line, str) else line for line in lines]]
    if header is None:
        heads = sorted(n for kind, n in used if kind == "v1")
        header = "\n".join(["from tensorflow.compat.v1 import " + ", ".join(heads)] * bool(heads)
                           + ["from tensorflow import keras"] * (("keras", None) in used))
    return header, slim, out


def _file(style, lines, extra, before=()):
    """(text, {line: expected}) of one file."""
    header, slim, spelled = _spell(style, PREAMBLE + lines)
    text = [line for line in header.split("\n") if line] + [slim] + list(extra) + list(before)
    expected = {}
    for item in spelled:
        text.append(item[0])
        if len(item) > 1:
            expected[len(text)] = set(item[1:])
    return "\n".join(text) + "\n", expected


def _cases():
    for variant in VARIANTS:
        for style in STYLES:
            for split in ("one file", "model.py + train.py"):
                yield pytest.param(variant, style, split, id="%s-%s-%s" % (variant, style, split))


def _report(paths, capsys, *flags):
    code = main([str(p) for p in paths] + ["--json"] + list(flags))
    report = json.loads(capsys.readouterr().out)
    assert report["exit_code"] == code
    found = {}
    for entry in report["files"]:
        name = entry["path"].rpartition("/")[2]
        for f in entry["findings"]:
            if f["code"] in IDIOM_CODES:
                found.setdefault((name, f["line"]), set()).add(f["code"])
        for s in entry["sites"]:
            if s["kind"] != "regularizer_argument":
                assert s["rewritten"], s
                found.setdefault((name, s["line"]), set()).add("rw:" + s["kind"])
    return code, report, found


def write_case(tmp_path, variant, style, split):
    model, train, extra = VARIANTS[variant]
    files, expected = {}, {}
    if split == "one file":
        files["train.py"], lines = _file(style, model + train, extra)
        expected.update((("train.py", n), e) for n, e in lines.items())
    else:
        files["model.py"], lines = _file(style, model, extra)
        expected.update((("model.py", n), e) for n, e in lines.items())
        files["train.py"], lines = _file(style, train, extra, ["import model"])
        expected.update((("train.py", n), e) for n, e in lines.items())
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return files, expected


@pytest.mark.parametrize(("variant", "style", "split"), _cases())
def test_every_idiom_site_is_reported_or_rewritten(tmp_path, capsys, variant, style, split):
    files, expected = write_case(tmp_path, variant, style, split)
    _, report, found = _report([tmp_path], capsys)
    assert found == expected, "\n".join("%s:\n%s" % (n, t) for n, t in files.items())
    for entry in report["files"]:  # each note names compat_reg's fix
        for f in entry["findings"]:
            if f["code"] in IDIOM_CODES and f["code"] != "arg-scope":
                assert "compat_reg." in f["message"].partition("Fix")[2] or \
                    f["code"] == "half-l2", f
    # --write: every file still parses, and a second run changes nothing
    main([str(tmp_path), "--write"])
    capsys.readouterr()
    written = {name: (tmp_path / name).read_text() for name in files}
    for text in written.values():
        ast.parse(text)
    assert main([str(tmp_path)]) in (0, 1)
    assert capsys.readouterr().out == ""
    assert {name: (tmp_path / name).read_text() for name in files} == written


def test_the_cross_product_covers_each_idiom_and_spelling():
    """The generated cases hold every idiom of the issue, each spelled in
    every style (a guard on the templates, not on the tool)."""
    codes = {c for model, train, _ in VARIANTS.values() for line in model + train
             if not isinstance(line, str) for c in line[1:]}
    assert codes >= IDIOM_CODES | {"rw:collection_read"}
    for style in STYLES:
        _, _, lines = _spell(style, ["x = <get_collection>(%s)" % R])
        assert lines[0][0] != "x = <get_collection>(%s)" % R


def test_a_pair_names_its_partner_in_the_other_file(tmp_path, capsys):
    _, expected = write_case(tmp_path, "own key read, not summed", "tf", "model.py + train.py")
    (add,), (read,) = ([n for name, n in expected if name == f] for f in ("model.py", "train.py"))
    _, report, _ = _report([tmp_path], capsys)
    messages = {e["path"].rpartition("/")[2]: [f["message"] for f in e["findings"]
                                               if f["code"] == "loss-collection"]
                for e in report["files"]}
    assert messages["model.py"][0].endswith("summed at %s:%d" % (tmp_path / "train.py", read))
    assert messages["train.py"][0].endswith("added at %s:%d" % (tmp_path / "model.py", add))


def test_a_read_alone_of_a_key_nothing_adds_a_penalty_to_is_not_reported(tmp_path, capsys):
    """``terms = tf.get_collection('reg_terms')`` is a loss collection's read
    only where the run adds a penalty to it: given train.py alone, it is not."""
    _, expected = write_case(tmp_path, "own key read, not summed", "tf", "model.py + train.py")
    _, _, found = _report([tmp_path / "train.py"], capsys)
    assert found == {}
    _, _, found = _report([tmp_path / "model.py", tmp_path / "train.py"], capsys)
    assert found == expected and len(found) == 2


def test_the_eager_trap_is_spelled_out(tmp_path, capsys):
    write_case(tmp_path, "losses cifar10", "tf", "model.py + train.py")
    main([str(tmp_path)])
    err = capsys.readouterr().err
    assert "0.06, 0.12, 0.18 on steps 0, 1, 2" in err
    assert "only the latest term has a gradient" in err
    assert "'losses' is tf.GraphKeys.LOSSES" in err
    # the exact fix: wd * l2_loss(w) is contrib's l2 of scale wd, no halving
    assert "wd * tf.nn.l2_loss(w) is compat_reg.l2_regularizer(wd)(w) exactly" in err
    write_case(tmp_path, "decay trainable_variables", "tf", "one file")
    main([str(tmp_path / "train.py")])
    err = capsys.readouterr().err
    assert "are [] (TF2 has no collections)" in err
    assert "compat_reg.tf1_variables(model)" in err


def test_help_names_every_idiom_note_and_check(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for code in IDIOM_CODES | {"--check"}:
        assert code in out
