"""HIIT PI: an electronic referee for home workouts."""

__version__ = "0.1.0"
