"""Value whose children are kept in a tuple, in the order the operands came.

A tuple keeps a + a as (a, a): topo_sort remembers what it has seen, so `a` is still listed once,
and __add__'s _backward adds out.grad into `a` twice, as it should.
"""

import math


class Value:
    def __init__(self, data, _children=(), _op="", label=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        self._op = _op
        self.label = label

    @property
    def prev(self):
        return self._prev

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        if not isinstance(other, Value):
            other = Value(other)
        result = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += result.grad
            other.grad += result.grad

        result._backward = _backward
        return result

    def __mul__(self, other):
        if not isinstance(other, Value):
            other = Value(other)
        result = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * result.grad
            other.grad += self.data * result.grad

        result._backward = _backward
        return result

    def __pow__(self, exponent):
        assert isinstance(exponent, (int, float))
        result = Value(self.data**exponent, (self,), f"**{exponent}")

        def _backward():
            self.grad += exponent * self.data ** (exponent - 1) * result.grad

        result._backward = _backward
        return result

    def __neg__(self):
        return -1 * self

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + -other

    def __rsub__(self, other):
        return -self + other

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return self**-1 * other

    def topo_sort(self):
        """Depth first, with my own stack of (node, index of the next child to visit)."""
        order = []
        seen = {self}
        stack = [[self, 0]]
        while stack:
            frame = stack[-1]
            node, i = frame
            if i < len(node._prev):
                frame[1] = i + 1
                child = node._prev[i]
                if child not in seen:
                    seen.add(child)
                    stack.append([child, 0])
            else:
                stack.pop()
                order.append(node)
        return order

    def backward(self):
        nodes = self.topo_sort()
        self.grad = 1.0
        for node in nodes[::-1]:
            node._backward()

    def tanh(self):
        x = self.data
        e = math.exp(-2.0 * abs(x))
        t = (1.0 - e) / (1.0 + e)
        if x < 0:
            t = -t
        result = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1.0 - t * t) * result.grad

        result._backward = _backward
        return result

    def relu(self):
        result = Value(self.data if self.data > 0 else 0.0, (self,), "ReLU")

        def _backward():
            self.grad += result.grad if result.data > 0 else 0.0

        result._backward = _backward
        return result
