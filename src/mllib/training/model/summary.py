"""A Keras-style table of a network's layers, output shapes and parameter counts."""

from __future__ import annotations

from ...nn.layers import ActivationLayer, BatchNorm, Dense, Dropout


def summary_table(model) -> str:
    """The rows of ``model.summary()``, one per layer, then the totals (of a built model)."""
    rows, trainable, untrained = [], 0, 0
    width, l = model.config["nodes"][0], 0
    for layer in model.layers:
        if isinstance(layer, Dense):
            l, width = l + 1, layer.n_out
            name = f"dense_{l} (Dense)"
        elif isinstance(layer, BatchNorm):
            name = f"batch_norm_{l} (BatchNorm)"
        elif isinstance(layer, ActivationLayer):
            name = f"{layer.activation.name}_{l} (Activation)"
        elif isinstance(layer, Dropout):
            name = f"dropout_{l} (Dropout {layer.keep_prob:g})"
        else:
            name = type(layer).__name__
        n_params = sum(p.size for p in layer.params.values())
        trainable += n_params
        untrained += sum(s.size for s in layer.state.values())
        rows.append((name, f"(None, {width})", f"{n_params:,}"))
    output = model.loss.activation.name
    rows.append((f"{output}_{l} (Output, {model.loss.name})", f"(None, {width})", "0"))
    header = ("Layer (type)", "Output shape", "Params")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(3)]
    rule = "-" * (sum(widths) + 4)
    fmt = f"{{:<{widths[0]}}}  {{:<{widths[1]}}}  {{:>{widths[2]}}}"
    lines = [rule, fmt.format(*header), rule.replace("-", "=")]
    lines += [fmt.format(*row) for row in rows]
    lines += [rule, f"Total params: {trainable + untrained:,}",
              f"Trainable params: {trainable:,}", f"Non-trainable params: {untrained:,}", rule]
    return "\n".join(lines)
