"""msme-sim: an agent-based simulator of a city's micro, small and medium enterprises."""

__version__ = "0.1.0"
