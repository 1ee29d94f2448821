"""One colour-and-style per method, shared by every plot of the comparison and the profiles.

Colour by optimizer (the 20-colour "tab20" palette: the dark shade for the subgradient variant, the
light shade for the proximal one); style by variant (solid and filled markers for the subgradient,
dashed and hollow markers for the proximal step); a marker shape per optimizer. The IALAM family is
drawn thickest (black, grey, brown), so it is found at a glance. Thick lines are drawn first, so a
thin line lying on a thick one stays visible (Adam and Adam+prox often coincide).
"""

from __future__ import annotations

from typing import Any

# tab20 (matplotlib's qualitative palette), written out so the styles need no matplotlib import
_TAB20 = (
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896",
    "#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7",
    "#bcbd22", "#dbdb8d", "#17becf", "#9edae5",
)  # fmt: skip
# light shades above are too pale on white for a thin dashed line: darkened versions
_LIGHT = {
    "#aec7e8": "#6b9fd1", "#ffbb78": "#f5a04a", "#98df8a": "#5fc24a", "#ff9896": "#f06966",
    "#c5b0d5": "#aa8cc7", "#dbdb8d": "#c4c45a", "#9edae5": "#5cc8da",
}  # fmt: skip
# optimizer -> (index of its dark shade in tab20, marker)
_OPTIMIZER_STYLE = {
    "SGD": (0, "o"),
    "Adagrad": (2, "s"),
    "AdagradDecay": (4, "^"),
    "Adam": (6, "D"),
    "Adadelta": (8, "v"),
    "Adamax": (16, "P"),
}
_FAMILY = {
    "IALAM": {"color": "#000000", "ls": "-", "lw": 3.2, "marker": "o"},
    "ialam-talk": {"color": "#7f7f7f", "ls": (0, (6, 2)), "lw": 3.0, "marker": "s"},
    "pipeline": {"color": "#8c564b", "ls": "-.", "lw": 3.0, "marker": "*"},
}


def method_style(name: str) -> dict[str, Any]:
    """matplotlib keyword arguments (``color``, ``ls``, ``lw``, ``marker``, ``mfc``) for ``name``.

    Every method of ``ialam-verify compare`` gets a different (colour, line style, marker) triple;
    an unknown name gets a neutral thin grey line.
    """
    if name in _FAMILY:
        return {**_FAMILY[name], "mfc": _FAMILY[name]["color"], "zorder": 3}
    opt, _, suffix = name.partition("+")
    if opt not in _OPTIMIZER_STYLE:
        return {"color": "#555555", "ls": ":", "lw": 1.0, "marker": "", "mfc": "none", "zorder": 2}
    idx, marker = _OPTIMIZER_STYLE[opt]
    if suffix == "prox":
        light = _TAB20[idx + 1]
        return {
            "color": _LIGHT.get(light, light),
            "ls": (0, (4, 2)),
            "lw": 1.2,
            "marker": marker,
            "mfc": "white",
            "zorder": 2.5,
        }
    return {
        "color": _TAB20[idx],
        "ls": "-",
        "lw": 2.0,
        "marker": marker,
        "mfc": _TAB20[idx],
        "zorder": 2,
    }
