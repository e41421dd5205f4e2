"""value.py: tanh straight from the math module, gradients written out in full.

I write `self.grad = self.grad + ...` rather than `+=`: it is the same accumulation, I just
find it easier to read.
"""

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
        return "Value(data=%r, grad=%r)" % (self.data, self.grad)  # noqa: UP031 (learner style)

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad = self.grad + out.grad
            other.grad = other.grad + out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad = self.grad + other.data * out.grad
            other.grad = other.grad + self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, p):
        assert isinstance(p, (int, float)), "the exponent must be an int or a float"
        out = Value(self.data**p, (self,), "**" + str(p))

        def _backward():
            local = p * self.data ** (p - 1)
            self.grad = self.grad + local * out.grad

        out._backward = _backward
        return out

    def __neg__(self):
        return self * (-1)

    def __radd__(self, other):
        return self.__add__(other)

    def __sub__(self, other):
        return self.__add__(-other)

    def __rsub__(self, other):
        return (-self).__add__(other)

    def __rmul__(self, other):
        return self.__mul__(other)

    def __truediv__(self, other):
        return self.__mul__(other**-1)

    def __rtruediv__(self, other):
        return (self**-1).__mul__(other)

    def topo_sort(self):
        # iterative depth-first search; each stack entry is a node and the children still to see
        result = []
        visited = set()
        visited.add(self)
        stack = [(self, list(self._prev))]
        while len(stack) > 0:
            node, remaining = stack[-1]
            if len(remaining) > 0:
                child = remaining.pop()
                if child not in visited:
                    visited.add(child)
                    stack.append((child, list(child._prev)))
            else:
                stack.pop()
                result.append(node)
        return result

    def backward(self):
        order = self.topo_sort()
        self.grad = 1.0
        i = len(order) - 1
        while i >= 0:
            order[i]._backward()
            i -= 1

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad = self.grad + (1 - t**2) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(0.0, self.data), (self,), "ReLU")

        def _backward():
            slope = 1.0 if out.data > 0 else 0.0
            self.grad = self.grad + slope * out.grad

        out._backward = _backward
        return out
