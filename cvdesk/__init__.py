"""cvdesk: a self-hostable desk for coordinated vulnerability disclosure."""

__version__ = "0.1.0"
__all__ = ["__version__"]
