"""The seed workshop's name for the network: `from micrograd.mlp import Neuron, Layer, MLP` gives
the very same classes as `micrograd.nn`, so a learner's code and tests run unchanged."""

from .nn import MLP, Layer, Module, Neuron

__all__ = ["MLP", "Layer", "Module", "Neuron"]
