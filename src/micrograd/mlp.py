"""The workshop's module name for the network: `from micrograd.mlp import Neuron, Layer, MLP`.

A learner's code and tests written against the step-by-step workshop import the network from
`mlp`; this module gives them the very same classes as `micrograd.nn`.
"""

from .nn import MLP, Layer, Module, Neuron

__all__ = ["MLP", "Layer", "Module", "Neuron"]
