"""Semantic segmentation (see docs/detection.md): FCNs and a sliding-window baseline."""
