"""The gallery: classic mistakes of a workshop learner, each as a small edit of the solution.

Each `Bug` puts one mistake back into `solution/value.py` or `solution/mlp.py` by replacing
text, and says at which step the checker must catch it and which phrase its message must hold
(the idea it names).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """The text from `start` to the end of the next `end`, both included."""

    start: str
    end: str

    def replace(self, text: str, new: str) -> str:
        """`text` with this span replaced by `new`."""
        i = text.index(self.start)
        j = text.index(self.end, i) + len(self.end)
        return text[:i] + new + text[j:]


@dataclass(frozen=True)
class Bug:
    name: str
    file: str
    edits: tuple[tuple[str | Span, str], ...]
    step: int
    phrase: str

    def apply(self, text: str) -> str:
        """The solution's text with this mistake in it; every edit must find its text once."""
        for old, new in self.edits:
            if isinstance(old, Span):
                text = old.replace(text, new)
            else:
                assert text.count(old) == 1, f"{self.name}: {old!r} is not in the solution once"
                text = text.replace(old, new)
        return text


# The solution's whole topo_sort body, iterative with a stack.
TOPO_BODY = Span("        topo = []\n        visited = {self}", "        return topo\n")


# topo_sort as a breadth-first walk from self, reversed: right only when no node is reached
# both along a short path and along a longer one.
BFS_TOPO = """        order = []
        visited = {self}
        queue = [self]
        while queue:
            node = queue.pop(0)
            order.append(node)
            for child in node._prev:
                if child not in visited:
                    visited.add(child)
                    queue.append(child)
        return list(reversed(order))
"""

BUGS = [
    # -- step 1: operators
    Bug(
        "plain numbers not wrapped",
        "value.py",
        (
            (
                "other = other if isinstance(other, Value) else Value(other)\n"
                '        out = Value(self.data + other.data, (self, other), "+")',
                'out = Value(self.data + other.data, (self, other), "+")',
            ),
        ),
        1,
        "a plain number (2, an int) reached code in Value.__add__ that expects a Value",
    ),
    Bug(
        "no reflected +",
        "value.py",
        (("    def __radd__(self, other):\n        return self + other\n", ""),),
        1,
        "define __radd__",
    ),
    Bug(
        "__rsub__ with the sign flipped",
        "value.py",
        (("return other + (-self)", "return self - other"),),
        1,
        "other - self",
    ),
    Bug(
        "__rtruediv__ divides the wrong way",
        "value.py",
        (("return other * self**-1", "return self * other**-1"),),
        1,
        "which is other * self ** -1",
    ),
    Bug(
        "the product forgets its operands",
        "value.py",
        (('Value(self.data * other.data, (self, other), "*")', "Value(self.data * other.data)"),),
        1,
        "the result remembers its operands",
    ),
    Bug(
        "no negation",
        "value.py",
        (("    def __neg__(self):\n        return self * -1\n", ""),),
        1,
        "negation is multiplication by -1",
    ),
    Bug(
        "+ changes its left operand",
        "value.py",
        (
            (
                'out = Value(self.data + other.data, (self, other), "+")',
                'self.data += other.data\n        out = Value(self.data, (self, other), "+")',
            ),
        ),
        1,
        "leaves its operands as they were",
    ),
    Bug(
        "Values compared by data",
        "value.py",
        (
            (
                "    def __repr__(self):\n",
                "    def __eq__(self, other):\n"
                "        return isinstance(other, Value) and self.data == other.data\n\n"
                "    def __hash__(self):\n"
                "        return hash(self.data)\n\n"
                "    def __repr__(self):\n",
            ),
        ),
        1,
        "__eq__",
    ),
    # -- step 2: gradients and topological order
    Bug(
        "= instead of +=",
        "value.py",
        (
            (
                "self.grad += out.grad\n            other.grad += out.grad",
                "self.grad = out.grad\n            other.grad = out.grad",
            ),
        ),
        2,
        "in __add__'s _backward",
    ),
    Bug(
        "the power rule as (n*x)**(n-1)",
        "value.py",
        (("other * self.data ** (other - 1)", "(other * self.data) ** (other - 1)"),),
        2,
        "the power rule: d(x ** n)/dx = n * x ** (n - 1)",
    ),
    Bug(
        "grad not seeded with 1.0",
        "value.py",
        (("        self.grad = 1.0\n", ""),),
        2,
        "d out / d out = 1",
    ),
    Bug(
        "topological sort without a visited set",
        "value.py",
        (("elif child not in visited:", "else:"),),
        2,
        "keep a `visited` set",
    ),
    Bug(
        "topological sort with self first",
        "value.py",
        (
            ("topo = []\n        visited = {self}", "topo = [self]\n        visited = {self}"),
            (
                "                stack.pop()\n                topo.append(node)",
                "                stack.pop()",
            ),
            (
                "                visited.add(child)\n",
                "                visited.add(child)\n                topo.append(child)\n",
            ),
        ),
        2,
        "self last",
    ),
    Bug(
        "backward walks the order forwards",
        "value.py",
        (("for node in reversed(topo):", "for node in topo:"),),
        2,
        "backward() does not run them in order",
    ),
    Bug(
        "* sends each operand its own value",
        "value.py",
        (("self.grad += other.data * out.grad", "self.grad += self.data * out.grad"),),
        2,
        "each factor's gradient is the other factor",
    ),
    Bug(
        "* forgets out.grad",
        "value.py",
        (
            (
                "self.grad += other.data * out.grad\n"
                "            other.grad += self.data * out.grad",
                "self.grad += other.data\n            other.grad += self.data",
            ),
        ),
        2,
        "the chain rule",
    ),
    Bug(
        "= instead of += in __pow__'s rule",
        "value.py",
        (
            (
                "self.grad += other * self.data ** (other - 1) * out.grad",
                "self.grad = other * self.data ** (other - 1) * out.grad",
            ),
        ),
        2,
        "in __pow__'s _backward",
    ),
    Bug(
        "reversed breadth-first order",
        "value.py",
        ((TOPO_BODY, BFS_TOPO),),
        2,
        "before its child",
    ),
    Bug(
        ".grad typed for .data in *'s rule",
        "value.py",
        (
            (
                "self.grad += other.data * out.grad\n"
                "            other.grad += self.data * out.grad",
                "self.grad += other.grad * out.grad\n"
                "            other.grad += self.grad * out.grad",
            ),
        ),
        2,
        ".grad where",
    ),
    Bug(
        "backward() calls node.backward()",
        "value.py",
        (("node._backward()", "node.backward()"),),
        2,
        "node._backward()",
    ),
    # -- step 3: tanh and ReLU
    Bug(
        "tanh's derivative from the input",
        "value.py",
        (("self.grad += (1 - t**2) * out.grad", "self.grad += (1 - self.data**2) * out.grad"),),
        3,
        "the slope comes from the output t",
    ),
    Bug(
        "tanh forgets out.grad",
        "value.py",
        (("self.grad += (1 - t**2) * out.grad", "self.grad += 1 - t**2"),),
        3,
        "the chain rule",
    ),
    Bug(
        "ReLU's derivative wrong for x > 0",
        "value.py",
        (("(1.0 if out.data > 0 else 0.0) * out.grad", "out.data * out.grad"),),
        3,
        "ReLU is the identity: its slope is 1",
    ),
    Bug(
        "a leaky ReLU",
        "value.py",
        (
            (
                "self.data if self.data > 0 else 0.0",
                "self.data if self.data > 0 else 0.01 * self.data",
            ),
        ),
        3,
        "relu(x) is x when x > 0 and 0 otherwise",
    ),
    Bug(
        "= instead of += in tanh's rule",
        "value.py",
        (("self.grad += (1 - t**2) * out.grad", "self.grad = (1 - t**2) * out.grad"),),
        3,
        "in tanh's _backward",
    ),
    Bug(
        "= instead of += in relu's rule",
        "value.py",
        (
            (
                "self.grad += (1.0 if out.data > 0 else 0.0) * out.grad",
                "self.grad = (1.0 if out.data > 0 else 0.0) * out.grad",
            ),
        ),
        3,
        "in relu's _backward",
    ),
    Bug(
        "ReLU's slope 1 at exactly 0",
        "value.py",
        (("(1.0 if out.data > 0 else 0.0)", "(1.0 if self.data >= 0 else 0.0)"),),
        3,
        "at exactly 0",
    ),
    Bug(
        "tanh through exp overflows",
        "value.py",
        (
            (
                Span("e = math.expm1(-2 * abs(x))", "t = math.copysign(-e / (2 + e), x)"),
                "t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)",
            ),
        ),
        3,
        "overflow",
    ),
    # -- step 4: Neuron, Layer and MLP
    Bug(
        "weights all zero",
        "mlp.py",
        (("Value(random.uniform(-1, 1)) for _ in range(nin)", "Value(0.0) for _ in range(nin)"),),
        4,
        "break the symmetry",
    ),
    Bug(
        "Layer returns a list for one neuron",
        "mlp.py",
        (("return outs[0] if len(outs) == 1 else outs", "return outs"),),
        4,
        "gives its Value itself",
    ),
    Bug(
        "the neuron computes with .data",
        "mlp.py",
        (
            (
                "act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)",
                "act = Value(sum(wi.data * xi for wi, xi in zip(self.w, x)) + self.b.data)",
            ),
        ),
        4,
        "not from their .data",
    ),
    Bug(
        "every layer reads the network's inputs",
        "mlp.py",
        (("Layer(sizes[i], sizes[i + 1]", "Layer(nin, sizes[i + 1]"),),
        4,
        "as many inputs as the layer before has neurons",
    ),
    Bug(
        "tanh where the step asks for ReLU",
        "mlp.py",
        (
            (
                "return act.relu() if self.nonlin else act",
                "return act.tanh() if self.nonlin else act",
            ),
        ),
        4,
        "applies ReLU",
    ),
    Bug(
        "one neuron repeated in a Layer",
        "mlp.py",
        (
            (
                "[Neuron(nin, nonlin) for _ in range(nout)]",
                "[Neuron(nin, nonlin)] * nout",
            ),
        ),
        4,
        "the same Neuron",
    ),
    Bug(
        "hidden layers linear, output ReLU",
        "mlp.py",
        (("nonlin=i != last", "nonlin=i == last"),),
        4,
        "hidden layers",
    ),
    # -- step 5: parameters, a linear output, zero_grad and training
    Bug(
        "ReLU on the output layer",
        "mlp.py",
        (("nonlin=i != last", "nonlin=True"),),
        5,
        "ReLU never gives a negative number",
    ),
    Bug(
        "parameters() without the bias",
        "mlp.py",
        (("return [*self.w, self.b]", "return self.w"),),
        5,
        "the bias is learned like the weights",
    ),
    Bug(
        "zero_grad misses the biases",
        "mlp.py",
        (
            (
                "        for p in self.parameters():\n            p.grad = 0.0",
                "        for layer in self.layers:\n            for n in layer.neurons:\n"
                "                for w in n.w:\n                    w.grad = 0.0",
            ),
        ),
        5,
        "of the 9 biases still have grad 1.5",
    ),
    Bug(
        "train never calls zero_grad",
        "mlp.py",
        (("        model.zero_grad()\n", ""),),
        5,
        "a loop without zero_grad()",
    ),
    Bug(
        "train steps uphill",
        "mlp.py",
        (("p.data -= lr * p.grad", "p.data += lr * p.grad"),),
        5,
        "a loop that steps uphill",
    ),
    Bug(
        "train sums the squared errors",
        "mlp.py",
        ((" / len(ys)", ""),),
        5,
        "the loss is their mean",
    ),
    Bug(
        "train returns the loss Values",
        "mlp.py",
        (("losses.append(loss.data)", "losses.append(loss)"),),
        5,
        "append loss.data, the number",
    ),
    Bug(
        "zero_grad() after backward()",
        "mlp.py",
        (
            (
                "        model.zero_grad()\n        loss.backward()\n",
                "        loss.backward()\n        model.zero_grad()\n",
            ),
        ),
        5,
        "zero_grad() after backward()",
    ),
    Bug(
        "mutable default list in train",
        "mlp.py",
        (
            (
                "def train(model, xs, ys, epochs=40, lr=0.05):\n    losses = []\n",
                "def train(model, xs, ys, epochs=40, lr=0.05, losses=[]):\n",
            ),
        ),
        5,
        "mutable default",
    ),
]
