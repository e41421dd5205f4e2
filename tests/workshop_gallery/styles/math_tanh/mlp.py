"""mlp.py: a small multi-layer perceptron on my own Value."""

import random

from value import Value


class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = []
        for _ in range(nin):
            self.w.append(Value(random.uniform(-1, 1)))
        self.b = Value(random.uniform(-1, 1))
        self.nonlin = nonlin

    def __call__(self, x):
        pairs = zip(self.w, x)  # noqa: B905 (learner style)
        activation = sum((w * v for w, v in pairs), self.b)
        if self.nonlin:
            activation = activation.relu()
        return activation

    def parameters(self):
        params = list(self.w)
        params.append(self.b)
        return params


class Layer:
    def __init__(self, nin, nout, nonlin=True):
        self.neurons = [Neuron(nin, nonlin) for _ in range(nout)]

    def __call__(self, x):
        ys = [neuron(x) for neuron in self.neurons]
        return ys if len(ys) != 1 else ys[0]

    def parameters(self):
        out = []
        for neuron in self.neurons:
            out += neuron.parameters()
        return out


class MLP:
    def __init__(self, nin, nouts):
        self.sizes = [nin, *list(nouts)]
        self.layers = []
        for i in range(len(nouts)):
            last = i + 1 == len(nouts)
            self.layers.append(Layer(self.sizes[i], self.sizes[i + 1], nonlin=not last))

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        out = []
        for layer in self.layers:
            out += layer.parameters()
        return out

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


def mse(preds, targets):
    total = Value(0.0)
    for p, t in zip(preds, targets):  # noqa: B905 (learner style)
        total = total + (p - t) ** 2
    return total / len(targets)


def train(model, xs, ys, epochs=40, lr=0.05):
    losses = []
    for _ in range(epochs):
        loss = mse([model(x) for x in xs], ys)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data = p.data - lr * p.grad
        losses.append(loss.data)
    return losses
