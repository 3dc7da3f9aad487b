"""The control-plane simulator: what makes an emulated account behave like AWS over time."""

from labkit.sandbox.simulator.core import Simulator, simulator_for

__all__ = ["Simulator", "simulator_for"]
