"""Intersection-group configuration: one TOML file, checked whole, read into a model."""

from .load import load, loads
from .model import GroupConfig, Intersection, SignalGroup
from .reader import ConfigError, Problem

__all__ = ["load", "loads", "ConfigError", "Problem", "GroupConfig", "Intersection",
           "SignalGroup"]
