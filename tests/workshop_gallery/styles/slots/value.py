"""A Value with __slots__: a network makes thousands of them, and slots keep each one small.

Only the six attributes below exist on a Value; everything else is as in WORKSHOP.md.
"""

import math


class Value:
    __slots__ = ("data", "grad", "_backward", "_prev", "_op", "label")  # noqa: RUF023

    def __init__(self, data, _children=(), _op="", label=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op
        self.label = label

    def __repr__(self):
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data}, grad={self.grad})"

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
        assert isinstance(other, (int, float)), "exponent: a plain int or float"
        out = Value(self.data**other, (self,), f"**{other}")

        def _backward():
            self.grad += (other * self.data ** (other - 1)) * out.grad

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
        topo = []
        opened = set()  # nodes whose children have been put on the stack
        finished = set()  # nodes already in topo
        stack = [self]
        while stack:
            node = stack[-1]
            if node in finished:
                stack.pop()
            elif node in opened:
                # back on top: everything pushed above it is finished, its children included
                stack.pop()
                finished.add(node)
                topo.append(node)
            else:
                opened.add(node)
                stack.extend(c for c in node._prev if c not in finished)
        return topo

    def backward(self):
        topo = self.topo_sort()
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()

    def tanh(self):
        x = self.data
        e = math.exp(-2 * abs(x))
        t = (1 - e) / (1 + e)
        t = t if x >= 0 else -t
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,), "ReLU")

        def _backward():
            self.grad += (out.data > 0) * out.grad

        out._backward = _backward
        return out
