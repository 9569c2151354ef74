"""The web side: a minimal Flask app over the live store (read snapshots, send commands)."""

from hiitpi.web.routes import create_app

__all__ = ["create_app"]
