"""Object detection: box and RoI operations, synthetic scenes, annotation readers, drawing,
metrics, and the detectors of the lecture (see ``docs/detection.md``).

``striate.segment`` builds on this package (scenes, metrics, drawing).
"""

from .ops import (
    anchor_grid,
    batched_nms,
    box_area,
    box_cxcywh_to_xyxy,
    box_iou,
    box_xyxy_to_cxcywh,
    clip_boxes_to_image,
    decode_boxes,
    encode_boxes,
    nms,
    roi_align,
    roi_pool,
)

__all__ = ["anchor_grid", "batched_nms", "box_area", "box_cxcywh_to_xyxy", "box_iou",
           "box_xyxy_to_cxcywh", "clip_boxes_to_image", "decode_boxes", "encode_boxes", "nms",
           "roi_align", "roi_pool"]
