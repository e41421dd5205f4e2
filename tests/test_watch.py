"""`Layer.intact()` answers from a count of changes (`micrograd.watch`) instead of comparing
every weight: after any sequence of replacements it must say what a full comparison says."""

from __future__ import annotations

import copy
import pickle
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import Layer, Neuron, Value
from micrograd.watch import Changes, WatchedList


def _really_intact(layer: Layer) -> bool:
    """The plain way: every neuron still holds the layer's own Values, by identity."""
    return [n.b for n in layer.neurons] == layer._own_b and [
        list(n.w) for n in layer.neurons
    ] == layer._own_w


def _replace(layer: Layer, spare: Layer, kind: int, rng: random.Random) -> None:
    """One of the ways a learner can replace something in a layer (or put it back)."""
    neurons = layer.neurons
    n = rng.choice(neurons)
    own_n = rng.randrange(len(layer._own_b))
    match kind:
        case 0:
            n.w[rng.randrange(len(n.w))] = Value(1.0)
        case 1:
            n.b = Value(2.0)
        case 2:
            n.w = [Value(w.data) for w in n.w]  # a plain list: no longer watched
        case 3:
            neurons[rng.randrange(len(neurons))] = rng.choice(spare.neurons)
        case 4:  # put one neuron's own Values back
            n.w[:] = layer._own_w[own_n]
            n.b = layer._own_b[own_n]
        case 5:  # a fresh watched list holding the same Values
            n.w = WatchedList(n.w)
        case 6:
            neurons.reverse()
            neurons.reverse()
        case 7:
            layer.neurons = list(neurons)  # a plain list of the same neurons
        case 8:
            n.w += []
        case 9:
            n.w.append(n.w.pop())
        case 10:
            spare.neurons[0].w[0] = Value(3.0)  # another layer's change: ours must not care
        case _:
            _ = layer(rng.choices([0.5, -1.0], k=len(n.w)))  # a forward pass changes nothing


@settings(max_examples=150, deadline=None)
@given(kinds=st.lists(st.integers(0, 11), max_size=12), seed=st.integers(0, 10**6))
def test_intact_says_what_a_full_comparison_says(kinds: list[int], seed: int) -> None:
    rng = random.Random(seed)
    layer, spare = Layer(3, 4, rng=rng), Layer(3, 4, rng=rng)
    assert layer.intact() and _really_intact(layer)
    for kind in kinds:
        _replace(layer, spare, kind, rng)
        assert layer.intact() == _really_intact(layer), kind
        assert layer.intact() == _really_intact(layer), kind  # the cached answer, too


def test_a_replaced_weight_is_seen_and_putting_it_back_is_too() -> None:
    layer = Layer(2, 3)
    neuron = layer.neurons[1]
    own = neuron.w[0]
    neuron.w[0] = Value(0.5)
    assert not layer.intact()
    neuron.w[0] = own
    assert layer.intact()


def test_a_neuron_moved_out_and_changed_still_counts_for_its_layer() -> None:
    layer, other = Layer(2, 2), Layer(2, 2)
    moved = layer.neurons[0]
    other.neurons[0] = moved
    assert not other.intact()
    moved.w[0] = Value(9.0)  # counts for `layer`, its own
    assert layer.intact() is False  # its weight was replaced
    assert not other.intact()


def test_a_copied_or_pickled_layer_watches_its_own_lists() -> None:
    for copied in (copy.deepcopy(Layer(2, 3)), pickle.loads(pickle.dumps(Layer(2, 3)))):
        assert copied.intact()
        assert isinstance(copied.neurons, WatchedList)
        assert copied.neurons[0].w.changes is copied._changes  # type: ignore[attr-defined]
        copied.neurons[2].w[1] = Value(0.0)
        assert not copied.intact()


def test_a_watched_list_is_still_a_list() -> None:
    changes = Changes()
    items = WatchedList([3, 1, 2], changes)
    items.sort()
    items.insert(0, 0)
    items.extend([4])
    items.remove(4)
    del items[0]
    items *= 1
    items.clear()
    assert items == [] and isinstance(items, list) and changes.count == 7
    assert repr(WatchedList([1])) == "[1]" and copy.copy(WatchedList([1])) == [1]


def test_a_standalone_neuron_counts_its_own_changes() -> None:
    neuron = Neuron(2)
    before = neuron._changes.count
    neuron.b = Value(1.0)
    neuron.w[0] = Value(1.0)
    assert neuron._changes.count == before + 2


def test_a_subclass_may_set_weights_before_our_init() -> None:
    class Mine(Neuron):
        def __init__(self, nin: int) -> None:
            self.w = [Value(0.0)] * nin  # before Neuron.__init__, as a learner might
            super().__init__(nin)

    class MyLayer(Layer):
        def __init__(self) -> None:
            self.neurons = []
            super().__init__(2, 2)

    assert len(Mine(3).w) == 3 and MyLayer().intact()
