"""Sourced data, a shortfall model and offline reports on the Kenya-led Multinational
Security Support (MSS) mission in Haiti."""

from .dataset import Dataset, load_dataset
from .errors import DataProblem, DataValidationError, HaitiMSSError, ParameterError, RenderError
from .snapshot import Snapshot, snapshot
from .timeline import CONFLICT_RULE

__all__ = [
    "CONFLICT_RULE", "DataProblem", "DataValidationError", "Dataset", "HaitiMSSError",
    "ParameterError", "RenderError", "Snapshot", "load_dataset", "snapshot",
]
