"""mlp.py: every neuron starts from its bias, and lists it first among its parameters."""

import random

from value import Value


class Neuron:
    def __init__(self, nin, nonlin=True):
        self.b = Value(random.uniform(-1, 1))
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.nonlin = nonlin

    def __call__(self, x):
        act = self.b + sum(wi * xi for wi, xi in zip(self.w, x))  # noqa: B905 (learner style)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return [self.b] + self.w  # noqa: RUF005 (learner style)


class Layer:
    def __init__(self, nin, nout, nonlin=True):
        self.neurons = [Neuron(nin, nonlin=nonlin) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        # neuron by neuron, each one bias first
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, nin, nouts):
        sizes = [nin] + list(nouts)  # noqa: RUF005 (learner style)
        self.layers = []
        for i in range(len(nouts)):
            hidden = i < len(nouts) - 1
            self.layers.append(Layer(sizes[i], sizes[i + 1], nonlin=hidden))

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
        loss = sum((p - y) ** 2 for p, y in zip(preds, ys)) / len(ys)  # noqa: B905 (learner style)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses
