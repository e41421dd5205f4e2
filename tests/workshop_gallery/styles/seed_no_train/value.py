"""value.py, as I wrote it following the seed workshop.

The seed keeps a node's children in `prev`; the checker reads `_prev`, so both names point at
the same set.
"""

import math


class Value:
    def __init__(self, data, _children=(), _op="", label=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self.prev = set(_children)
        self._prev = self.prev
        self._op = _op
        self.label = label

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad}, op={self._op!r})"

    # step 1 + 2: the three basic operators and their gradients

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += 1.0 * out.grad
            other.grad += 1.0 * out.grad

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

    def __pow__(self, n):
        assert isinstance(n, (int, float)), "exponent must be a plain number"
        out = Value(self.data**n, (self,), f"**{n}")

        def _backward():
            self.grad += n * (self.data ** (n - 1)) * out.grad

        out._backward = _backward
        return out

    # everything else is built from + * **

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other**-1

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return other * self**-1

    # step 2: order and backward

    def topo_sort(self):
        order = []
        done = set()
        todo = [self]
        while todo:
            node = todo[-1]
            if node in done:
                todo.pop()
                continue
            waiting = [child for child in node.prev if child not in done]
            if waiting:
                todo.extend(waiting)
            else:
                todo.pop()
                done.add(node)
                order.append(node)
        return order

    def backward(self):
        order = self.topo_sort()
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    # step 3: activations

    def tanh(self):
        x = self.data
        if x > 0:
            z = math.exp(-2 * x)
            t = (1 - z) / (1 + z)
        else:
            z = math.exp(2 * x)
            t = (z - 1) / (z + 1)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(0.0 if self.data < 0 else self.data, (self,), "ReLU")

        def _backward():
            self.grad += (out.data > 0) * out.grad

        out._backward = _backward
        return out
