"""RemoteCare: remote care management and exact CMS billing for medical practices."""

__version__ = "0.1.0"
