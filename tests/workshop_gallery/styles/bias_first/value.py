"""My autograd Value (steps 1-3 of the workshop)."""

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
        return f"Value(data={self.data:.4f}, grad={self.grad:.4f})"

    def __add__(self, other):
        if isinstance(other, (int, float)):
            other = Value(other)
        out = Value(self.data + other.data, (self, other), _op="+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        if isinstance(other, (int, float)):
            other = Value(other)
        out = Value(self.data * other.data, (self, other), _op="*")

        def _backward():
            self.grad += out.grad * other.data
            other.grad += out.grad * self.data

        out._backward = _backward
        return out

    def __pow__(self, power):
        assert isinstance(power, (int, float)), "power must be a number"
        out = Value(self.data**power, (self,), _op=f"**{power}")

        def _backward():
            self.grad += out.grad * power * self.data ** (power - 1)

        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * (other**-1)

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return (-self) + other

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return (self**-1) * other

    def topo_sort(self):
        order = []
        visited = {self}
        # each entry: a node and an iterator over the children it still has to visit
        stack = [(self, iter(list(self._prev)))]
        while stack:
            node, it = stack[-1]
            for child in it:
                if child not in visited:
                    visited.add(child)
                    stack.append((child, iter(list(child._prev))))
                    break
            else:
                stack.pop()
                order.append(node)
        return order

    def backward(self):
        order = self.topo_sort()
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), _op="tanh")

        def _backward():
            self.grad += out.grad * (1 - t**2)

        out._backward = _backward
        return out

    def relu(self):
        positive = self.data > 0
        out = Value(self.data if positive else 0.0, (self,), _op="ReLU")

        def _backward():
            if out.data > 0:
                self.grad += out.grad

        out._backward = _backward
        return out
