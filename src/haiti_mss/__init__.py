"""Sourced data, a shortfall model and offline reports on the Kenya-led Multinational
Security Support (MSS) mission in Haiti.

The public names below are imported on first use, so that the command line (``python -m
haiti_mss render ...``) starts without loading pandas when it does not need it."""

from importlib import import_module

_PUBLIC = {
    "CONFLICT_RULE": "timeline", "DataProblem": "errors", "DataValidationError": "errors",
    "Dataset": "dataset", "HaitiMSSError": "errors", "ParameterError": "errors",
    "RenderError": "errors", "Snapshot": "snapshots", "load_dataset": "dataset",
    "snapshot": "snapshots", "resolve_on": "resolve", "State": "resolve",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        return getattr(import_module(f".{_PUBLIC[name]}", __name__), name)
    try:
        return import_module(f".{name}", __name__)  # submodules: mss.entities, mss.model, ...
    except ModuleNotFoundError:
        raise AttributeError(f"module 'haiti_mss' has no attribute {name!r}") from None
