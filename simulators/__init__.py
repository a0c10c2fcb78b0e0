"""Faithful local stand-ins of the five upstream job APIs, for the demo, tests and benchmarks."""

from simulators.base import Simulator
from simulators.clock import ClockDisabled
from simulators.faults import FAULT_KINDS, FaultInjector
from simulators.requestlog import LoggedRequest, RequestLog
from simulators.suite import DEFAULT_SEED, PROVIDERS, SimulatorSuite

__all__ = [
    "DEFAULT_SEED",
    "FAULT_KINDS",
    "PROVIDERS",
    "ClockDisabled",
    "FaultInjector",
    "LoggedRequest",
    "RequestLog",
    "Simulator",
    "SimulatorSuite",
]
