"""mlp.py for the workshop: Neuron, Layer, MLP and a train() loop."""

import random

from value import Value


def _dot(ws, xs):
    return sum(w * x for w, x in zip(ws, xs))  # noqa: B905 (learner style)


class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
        self.nonlin = nonlin

    def __call__(self, x):
        z = _dot(self.w, x) + self.b
        return z.relu() if self.nonlin else z

    def parameters(self):
        return [*self.w, self.b]


class Layer:
    def __init__(self, nin, nout, nonlin=True):
        self.neurons = [Neuron(nin, nonlin) for _ in range(nout)]

    def __call__(self, x):
        outs = list(map(lambda n: n(x), self.neurons))
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, nin, nouts):
        ins = [nin, *nouts[:-1]]
        last = len(nouts) - 1
        pairs = enumerate(zip(ins, nouts))  # noqa: B905 (learner style)
        self.layers = [Layer(i, o, nonlin=k != last) for k, (i, o) in pairs]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


def train(model, xs, ys, epochs=40, lr=0.05):
    losses = []
    for _ in range(epochs):
        preds = [model(x) for x in xs]
        loss = sum((yp - yt) ** 2 for yp, yt in zip(preds, ys)) / len(ys)  # noqa: B905
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses
