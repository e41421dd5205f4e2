"""micrograd: a tiny scalar-valued autograd engine and a neural-network library on top of it."""

from .engine import Value
from .gradcheck import gradcheck
from .nn import MLP, Layer, Module, Neuron

__all__ = ["Value", "Module", "Neuron", "Layer", "MLP", "gradcheck"]
__version__ = "0.2.0"
