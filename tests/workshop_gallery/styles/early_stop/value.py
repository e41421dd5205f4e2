"""value.py (workshop steps 1-3)."""

import math


class Value:
    def __init__(self, data, _children=(), _op="", label=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op
        self.label = label

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, other):
        assert isinstance(other, (int, float))
        out = Value(self.data**other, (self,), f"**{other}")

        def _backward():
            self.grad += other * self.data ** (other - 1) * out.grad

        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    def topo_sort(self):
        order = []
        seen = {self}
        # (node, its children, how many of them are done); the top of the stack is the
        # node being visited right now
        stack = [(self, tuple(self._prev), 0)]
        while stack:
            node, kids, i = stack.pop()
            if i == len(kids):
                order.append(node)
                continue
            stack.append((node, kids, i + 1))
            kid = kids[i]
            if kid not in seen:
                seen.add(kid)
                stack.append((kid, tuple(kid._prev), 0))
        return order

    def backward(self):
        self.grad = 1.0
        for node in reversed(self.topo_sort()):
            node._backward()

    def tanh(self):
        x = self.data
        e = math.exp(-2 * abs(x))
        t = math.copysign((1 - e) / (1 + e), x)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,), "ReLU")

        def _backward():
            self.grad += out.grad * (1.0 if out.data > 0 else 0.0)

        out._backward = _backward
        return out
