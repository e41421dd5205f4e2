"""Neuron, Layer, MLP and train, on my Value."""

import random

from value import Value


class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
        self.nonlin = nonlin

    def __call__(self, x):
        total = self.b
        for i in range(len(self.w)):
            total = total + self.w[i] * x[i]
        if not self.nonlin:
            return total
        return total.relu()

    def parameters(self):
        return list(self.w) + [self.b]  # noqa: RUF005 (learner style)


class Layer:
    def __init__(self, nin, nout, nonlin=True):
        self.neurons = [Neuron(nin, nonlin) for _ in range(nout)]

    def __call__(self, x):
        if len(self.neurons) == 1:
            return self.neurons[0](x)
        return [n(x) for n in self.neurons]

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, nin, nouts):
        self.layers = []
        fan_in = nin
        for i, width in enumerate(nouts):
            is_last = i == len(nouts) - 1
            self.layers.append(Layer(fan_in, width, nonlin=not is_last))
            fan_in = width

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
    history = []
    for _epoch in range(epochs):
        preds = [model(x) for x in xs]
        errors = [(p - y) ** 2 for p, y in zip(preds, ys)]  # noqa: B905 (learner style)
        loss = sum(errors) / len(ys)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        history.append(loss.data)
    return history
