"""The six public benchmark problems of sibyl, standard library only.

The same functions, bounds and optima as the project's shared benchmark
definition, restated here so that bench/ runs from a clone alone. Every
problem minimizes one metric named "value".

PROBLEMS is a list of dicts:
    name     short id
    spec     the StudySpec (API.md), without algorithm and seed
    f        f(params) -> float, params being {parameterId: value} as a
             trial carries them (numbers, or a string for a category)
    optimum  the known global minimum of f
"""

import math


def double_param(pid, lo, hi, scale="UNIT_LINEAR_SCALE"):
    return {"parameterId": pid, "scaleType": scale,
            "doubleValueSpec": {"minValue": lo, "maxValue": hi}}


def integer_param(pid, lo, hi, scale="UNIT_LINEAR_SCALE"):
    # int64 travels as a JSON string in proto3 JSON.
    return {"parameterId": pid, "scaleType": scale,
            "integerValueSpec": {"minValue": str(lo), "maxValue": str(hi)}}


def categorical_param(pid, values):
    return {"parameterId": pid, "categoricalValueSpec": {"values": list(values)}}


def minimize_value(parameters):
    return {"metrics": [{"metricId": "value", "goal": "MINIMIZE"}], "parameters": parameters}


def box(dim, lo, hi):
    """x1..x<dim>, each in [lo, hi], linear scale."""
    return minimize_value([double_param("x%d" % i, lo, hi) for i in range(1, dim + 1)])


def coords(params, dim):
    return [float(params["x%d" % i]) for i in range(1, dim + 1)]


def branin(params):
    """Branin-Hoo on [-5, 10] x [0, 15]; three global minima of 0.397887."""
    x1, x2 = float(params["x1"]), float(params["x2"])
    a = 1.0
    b = 5.1 / (4.0 * math.pi * math.pi)
    c = 5.0 / math.pi
    r = 6.0
    s = 10.0
    t = 1.0 / (8.0 * math.pi)
    return a * (x2 - b * x1 * x1 + c * x1 - r) ** 2 + s * (1.0 - t) * math.cos(x1) + s


# Hartmann 6-d: four Gaussian-like wells with weights ALPHA, widths A and
# centres P; the deepest reaches -3.32237.
HARTMANN_ALPHA = (1.0, 1.2, 3.0, 3.2)
HARTMANN_A = ((10.0, 3.0, 17.0, 3.5, 1.7, 8.0),
              (0.05, 10.0, 17.0, 0.1, 8.0, 14.0),
              (3.0, 3.5, 1.7, 10.0, 17.0, 8.0),
              (17.0, 8.0, 0.05, 10.0, 0.1, 14.0))
HARTMANN_P = ((0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886),
              (0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991),
              (0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650),
              (0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381))


def hartmann6(params):
    x = coords(params, 6)
    total = 0.0
    for alpha, a_row, p_row in zip(HARTMANN_ALPHA, HARTMANN_A, HARTMANN_P):
        inner = 0.0
        for xj, aj, pj in zip(x, a_row, p_row):
            inner += aj * (xj - pj) ** 2
        total += alpha * math.exp(-inner)
    return -total


def ackley(params, dim=5):
    """Ackley with a=20, b=0.2, c=2*pi; minimum 0 at the origin."""
    x = coords(params, dim)
    mean_sq = sum(v * v for v in x) / dim
    mean_cos = sum(math.cos(2.0 * math.pi * v) for v in x) / dim
    return -20.0 * math.exp(-0.2 * math.sqrt(mean_sq)) - math.exp(mean_cos) + 20.0 + math.e


def rosenbrock(params, dim=4):
    """The banana valley; minimum 0 at (1, ..., 1)."""
    x = coords(params, dim)
    return sum(100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2 for i in range(dim - 1))


def levy(params, dim=10):
    """Levy; minimum 0 at (1, ..., 1)."""
    w = [1.0 + (v - 1.0) / 4.0 for v in coords(params, dim)]
    head = math.sin(math.pi * w[0]) ** 2
    body = 0.0
    for wi in w[:-1]:
        body += (wi - 1.0) ** 2 * (1.0 + 10.0 * math.sin(math.pi * wi + 1.0) ** 2)
    tail = (w[-1] - 1.0) ** 2 * (1.0 + math.sin(2.0 * math.pi * w[-1]) ** 2)
    return head + body + tail


# Per optimizer: the learning rate where it does best, and its floor penalty.
MIXED_BEST_LR = {"adam": 3e-4, "sgd": 3e-2, "rmsprop": 1e-3}
MIXED_PENALTY = {"adam": 0.0, "sgd": 0.01, "rmsprop": 0.02}


def mixed_ml(params):
    """A synthetic validation loss over a training run's knobs: log-scale
    doubles, integers (one log-scale) and a category. Minimum 0.15 at
    adam, lr 3e-4, weight decay 1e-4, 4 layers, width 128."""
    lr = float(params["lr"])
    wd = float(params["weight_decay"])
    layers = int(params["layers"])
    width = int(params["width"])
    opt = params["optimizer"]
    out = 0.15
    out += 0.08 * (math.log10(lr) - math.log10(MIXED_BEST_LR[opt])) ** 2
    out += 0.02 * (math.log10(wd) + 4.0) ** 2
    out += 0.01 * (layers - 4) ** 2
    out += 0.03 * (math.log2(width) - 7.0) ** 2
    out += MIXED_PENALTY[opt]
    return out


PROBLEMS = [
    {"name": "branin",
     "spec": minimize_value([double_param("x1", -5, 10), double_param("x2", 0, 15)]),
     "f": branin, "optimum": 0.397887},
    {"name": "hartmann6", "spec": box(6, 0, 1), "f": hartmann6, "optimum": -3.32237},
    {"name": "ackley5", "spec": box(5, -32.768, 32.768), "f": ackley, "optimum": 0.0},
    {"name": "rosenbrock4", "spec": box(4, -5, 10), "f": rosenbrock, "optimum": 0.0},
    {"name": "levy10", "spec": box(10, -10, 10), "f": levy, "optimum": 0.0},
    {"name": "mixed_ml",
     "spec": minimize_value([double_param("lr", 1e-5, 1, "UNIT_LOG_SCALE"),
                             double_param("weight_decay", 1e-7, 1e-1, "UNIT_LOG_SCALE"),
                             integer_param("layers", 1, 8),
                             integer_param("width", 16, 1024, "UNIT_LOG_SCALE"),
                             categorical_param("optimizer", ["sgd", "adam", "rmsprop"])]),
     "f": mixed_ml, "optimum": 0.15},
]

BY_NAME = {p["name"]: p for p in PROBLEMS}
