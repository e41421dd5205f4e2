"""mlp.py from the seed workshop: Neuron, Layer, MLP.

There is no train() here: in the seed workshop the training loop of step 5 is written in the
test itself (see the bottom of this file for the same loop).
"""

import random

from value import Value


class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)  # noqa: B905 (learner style)
        if self.nonlin:
            return act.relu()
        return act

    def parameters(self):
        return self.w + [self.b]  # noqa: RUF005 (learner style)


class Layer:
    def __init__(self, nin, nout, nonlin=True):
        self.neurons = [Neuron(nin, nonlin=nonlin) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        params = []
        for neuron in self.neurons:
            params.extend(neuron.parameters())
        return params


class MLP:
    def __init__(self, nin, nouts):
        self.layer_sizes = [nin] + nouts  # noqa: RUF005 (learner style)
        sz = self.layer_sizes
        self.layers = [
            Layer(sz[i], sz[i + 1], nonlin=(i != len(nouts) - 1)) for i in range(len(nouts))
        ]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


if __name__ == "__main__":
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    random.seed(1337)
    n = MLP(3, [4, 4, 1])
    for k in range(40):
        ypred = [n(x) for x in xs]
        loss = sum(((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred)), Value(0.0))  # noqa: B905
        n.zero_grad()
        loss.backward()
        for p in n.parameters():
            p.data += -0.05 * p.grad
        print(k, loss.data)
