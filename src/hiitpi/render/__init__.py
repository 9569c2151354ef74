"""Drawing only: annotators never count, the referee never draws."""

from hiitpi.render.annotate import annotate, draw_hud, draw_skeleton, standby
from hiitpi.render.jpeg import encode_jpeg

__all__ = ["annotate", "draw_hud", "draw_skeleton", "encode_jpeg", "standby"]
