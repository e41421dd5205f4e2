"""My network: neurons, layers of them, and an MLP made of layers; then train()."""

import random

from value import Value


class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1), label=f"w{i}") for i in range(nin)]
        self.b = Value(random.uniform(-1, 1), label="b")
        self.nonlin = nonlin

    def __call__(self, x):
        z = sum((w * xi for w, xi in zip(self.w, x)), self.b)  # noqa: B905 (learner style)
        return z.relu() if self.nonlin else z

    def parameters(self):
        return [*self.w, self.b]


class Layer:
    def __init__(self, nin, nout, nonlin=True):
        self.neurons = [Neuron(nin, nonlin=nonlin) for _ in range(nout)]

    def __call__(self, x):
        outs = [neuron(x) for neuron in self.neurons]
        if len(outs) == 1:
            (only,) = outs
            return only
        return outs

    def parameters(self):
        return sum((n.parameters() for n in self.neurons), [])  # noqa: RUF017


class MLP:
    def __init__(self, nin, nouts):
        sizes = (nin, *nouts)
        n = len(nouts)
        self.layers = [Layer(sizes[k], sizes[k + 1], nonlin=k < n - 1) for k in range(n)]

    def __call__(self, x):
        out = x
        for layer in self.layers:
            out = layer(out)
        return out

    def parameters(self):
        return sum((layer.parameters() for layer in self.layers), [])  # noqa: RUF017

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
        for param in model.parameters():
            param.data -= lr * param.grad
        losses.append(loss.data)
    return losses
