"""The cabinet side of smartcross: configuration, timing core, runtime and tools."""

__version__ = "0.1.0"
