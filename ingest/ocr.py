"""Text from images of pages: scanned PDFs and .png/.jpg files, read by RapidOCR (PP-OCR models on
onnxruntime, the Chinese models inside its wheel).

The engine is an optional extra (`pip install 'policybot[ocr]'`); without it a scan is refused with
a message naming the extra. The engine is given the bundled model files by path, so it never goes
looking for models on the network.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import LoadError
from ingest.layout import TextLine, lines_from_boxes

log = logging.getLogger(__name__)

EXTRA = "ocr"
INSTALL_HINT = f"pip install 'policybot[{EXTRA}]'"
# The detector's input is capped at this many pixels on its longer side; an A4 page at 200 dpi is
# 2339 px tall, and the engine's default of 2000 would shrink it.
MAX_SIDE = 2400
_MODELS = {"Det": "PP-OCRv6_det_small.onnx", "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
           "Rec": "PP-OCRv6_rec_small.onnx"}


def missing_engine(what: str) -> LoadError:
    return LoadError(f"需要 OCR / {what} needs OCR, which is not installed: {INSTALL_HINT}")


@functools.cache
def _engine() -> Any:
    try:  # optional heavy dependency: onnxruntime, OpenCV and the models, only for scans
        import rapidocr
    except ImportError:
        return None
    models = Path(rapidocr.__file__).parent / "models"
    params: dict[str, Any] = {"Global.log_level": "warning", "Global.max_side_len": MAX_SIDE}
    for part, name in _MODELS.items():
        path = models / name
        if not path.is_file():  # never let the engine fetch a missing model
            raise LoadError(f"OCR 模型缺失 / the OCR engine's bundled model {name} is missing; reinstall: "
                            f"{INSTALL_HINT}")
        params[f"{part}.model_path"] = str(path)
    logging.getLogger("RapidOCR").setLevel(logging.WARNING)
    return rapidocr.RapidOCR(params=params)


def available() -> bool:
    return _engine() is not None


def read_image(image: Any, *, page: int, scale: float = 1.0, what: str = "this scan") -> list[TextLine]:
    """The lines of text on a PIL image; positions divided by `scale` (pixels per point for a page)."""
    engine = _engine()
    if engine is None:
        raise missing_engine(what)
    result = engine(np.asarray(image.convert("RGB")))
    if result.boxes is None or result.txts is None:
        return []
    boxes = []
    for quad, text in zip(result.boxes, result.txts, strict=True):
        xs, ys = [float(p[0]) for p in quad], [float(p[1]) for p in quad]
        boxes.append((min(xs) / scale, min(ys) / scale, max(xs) / scale, max(ys) / scale, str(text)))
    log.debug("OCR page %d: %d boxes", page, len(boxes))
    return lines_from_boxes(boxes, page)
