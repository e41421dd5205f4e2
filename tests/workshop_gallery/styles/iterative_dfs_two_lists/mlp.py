"""mlp.py: Neuron, Layer, MLP and train()."""

import random

from value import Value


class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
        self.nonlin = nonlin

    def __call__(self, x):
        act = self.b
        for w, xi in zip(self.w, x):  # noqa: B905 (learner style)
            act += w * xi
        if self.nonlin:
            return act.relu()
        return act

    def parameters(self):
        return self.w + [self.b]  # noqa: RUF005 (learner style)


class Layer:
    def __init__(self, nin, nout, nonlin=True):
        self.neurons = []
        for _ in range(nout):
            self.neurons.append(Neuron(nin, nonlin))

    def __call__(self, x):
        if len(self.neurons) == 1:
            return self.neurons[0](x)
        outs = []
        for neuron in self.neurons:
            outs.append(neuron(x))
        return outs

    def parameters(self):
        params = []
        for neuron in self.neurons:
            params += neuron.parameters()
        return params


class MLP:
    def __init__(self, nin, nouts):
        sizes = [nin] + nouts  # noqa: RUF005 (learner style)
        self.layers = []
        pairs = list(zip(sizes, sizes[1:]))  # noqa: B905, RUF007 (learner style)
        for i, (fan_in, fan_out) in enumerate(pairs):
            last = i == len(pairs) - 1
            self.layers.append(Layer(fan_in, fan_out, nonlin=not last))

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        params = []
        for layer in self.layers:
            params += layer.parameters()
        return params

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


def train(model, xs, ys, epochs=40, lr=0.05):
    losses = []
    for _ in range(epochs):
        preds = []
        for x in xs:
            preds.append(model(x))
        loss = Value(0.0)
        for p, y in zip(preds, ys):  # noqa: B905 (learner style)
            loss += (p - y) ** 2
        loss = loss / len(ys)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses
