"""Value with topo_sort done by Kahn's algorithm (no recursion, no DFS at all).

Start at the output, which has no parents. A node can be listed once every parent that uses it
has been listed. Listing from the output down gives parents-before-children, so reverse it.
"""

import math
from collections import deque


class Value:
    def __init__(self, data, _children=(), _op="", label=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op
        self.label = label

    def __repr__(self):
        return f"Value({self.data!r}, grad={self.grad!r})"

    @staticmethod
    def _wrap(x):
        return x if isinstance(x, Value) else Value(x)

    def __add__(self, other):
        other = Value._wrap(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = Value._wrap(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            raise TypeError("Value ** only takes a plain number as the exponent")
        out = Value(self.data**k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return Value._wrap(other) + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return Value._wrap(other) * self**-1

    def topo_sort(self):
        # 1. find every node and count how many parents (users) it has inside this graph
        parents = {self: 0}
        to_scan = [self]
        while to_scan:
            node = to_scan.pop()
            for child in node._prev:
                if child not in parents:
                    parents[child] = 0
                    to_scan.append(child)
                parents[child] += 1
        # 2. Kahn: take a node whose parents are all done, release its children
        ready = deque([self])
        top_down = []
        while ready:
            node = ready.popleft()
            top_down.append(node)
            for child in node._prev:
                parents[child] -= 1
                if parents[child] == 0:
                    ready.append(child)
        # 3. children first, self last
        top_down.reverse()
        return top_down

    def backward(self):
        self.grad = 1.0
        for node in reversed(self.topo_sort()):
            node._backward()

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,), "ReLU")

        def _backward():
            if out.data > 0:
                self.grad += out.grad

        out._backward = _backward
        return out
