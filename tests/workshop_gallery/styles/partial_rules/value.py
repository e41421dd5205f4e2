"""A Value without closures: every backward rule is a plain function at module level.

Each operator stores `functools.partial(rule, operands..., out)` as the result's _backward, so
calling out._backward() runs the rule with the operands it was made from. ReLU uses a bound
method instead.
"""

import functools
import math


def _leaf_backward():
    """A leaf was not computed from anything: nothing to pass on."""


def add_backward(a, b, out):
    a.grad += out.grad
    b.grad += out.grad


def mul_backward(a, b, out):
    a.grad += b.data * out.grad
    b.grad += a.data * out.grad


def pow_backward(a, n, out):
    a.grad += n * a.data ** (n - 1) * out.grad


def tanh_backward(a, out):
    a.grad += (1 - out.data**2) * out.grad


def as_value(x):
    return x if isinstance(x, Value) else Value(x)


class Value:
    def __init__(self, data, _children=(), _op="", label=""):
        self.data = data
        self.grad = 0.0
        self._backward = _leaf_backward
        self._prev = set(_children)
        self._op = _op
        self.label = label

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        other = as_value(other)
        out = Value(self.data + other.data, (self, other), "+")
        out._backward = functools.partial(add_backward, self, other, out)
        return out

    def __mul__(self, other):
        other = as_value(other)
        out = Value(self.data * other.data, (self, other), "*")
        out._backward = functools.partial(mul_backward, self, other, out)
        return out

    def __pow__(self, n):
        assert isinstance(n, (int, float)), "only a number as the exponent"
        out = Value(self.data**n, (self,), f"**{n}")
        out._backward = functools.partial(pow_backward, self, n, out)
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
        # post-order walk: a node goes into `order` when its last child has gone in
        order, placed = [], set()
        path = [self]
        while path:
            node = path[-1]
            child = next((c for c in node._prev if c not in placed), None)
            if child is None:
                path.pop()
                if node not in placed:
                    placed.add(node)
                    order.append(node)
            else:
                path.append(child)
        return order

    def backward(self):
        self.grad = 1.0
        for node in reversed(self.topo_sort()):
            node._backward()

    def tanh(self):
        x = self.data
        if abs(x) > 20:  # tanh is +-1 to double precision, and exp(2x) could overflow
            t = math.copysign(1.0, x)
        else:
            e = math.expm1(2 * x)  # e^2x - 1, precise even for tiny x
            t = e / (e + 2)
        out = Value(t, (self,), "tanh")
        out._backward = functools.partial(tanh_backward, self, out)
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,), "ReLU")
        out._backward = out._relu_backward
        return out

    def _relu_backward(self):
        # bound to the ReLU's output: its only child is the input
        for x in self._prev:
            x.grad += (1.0 if self.data > 0 else 0.0) * self.grad
