"""micrograd: a tiny scalar-valued autograd engine and a neural-network library on top of it.

The engine (`Value`) and the network (`Module`, `Neuron`, `Layer`, `MLP`) need only the standard
library. The training toolkit lives in submodules: `losses`, `optim`, `data`, `metrics`, `train`,
`serialization` (save/load), and `viz` (`draw_dot`).
"""

from .engine import Value
from .gradcheck import gradcheck
from .nn import MLP, Layer, Module, Neuron

__all__ = ["MLP", "Layer", "Module", "Neuron", "Value", "gradcheck"]
__version__ = "0.2.0"
