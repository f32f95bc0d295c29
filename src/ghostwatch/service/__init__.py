"""The imperative shell that runs ghostwatch for accounts: one cycle per account."""

from ghostwatch.service.cycle import CycleReport, run_cycle

__all__ = ["CycleReport", "run_cycle"]
