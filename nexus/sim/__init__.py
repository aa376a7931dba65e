"""`nexus sim`: the seven venues' real wire formats served on 127.0.0.1 from one simulated
market, with labelled ground truth for order-flow patterns and faults on demand.

    from nexus.sim import Simulator
    async with Simulator(seed=1, faults=["gap:okx-swap:5"]) as sim:
        sim.url("okx-swap"), sim.book("okx-swap"), sim.labels()

See nexus/sim/README.md for the endpoint layout, fault and label semantics.
"""

from nexus.sim.core import SIM_EPOCH_NS, SimCore
from nexus.sim.faults import KINDS as FAULT_KINDS
from nexus.sim.faults import Fault
from nexus.sim.faults import parse as parse_fault
from nexus.sim.patterns import KINDS as PATTERN_KINDS
from nexus.sim.simulator import Simulator
from nexus.sim.specs import VENUES

__all__ = ["Simulator", "SimCore", "Fault", "parse_fault", "FAULT_KINDS", "PATTERN_KINDS", "VENUES", "SIM_EPOCH_NS"]
