"""Pixel rendering of scratch pads: a grid of cells with digits, the cells under pointers highlighted."""

from __future__ import annotations

from typing import Sequence

import numpy as np

_GLYPHS = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
    "-": ("000", "000", "111", "000", "000"),
    ".": ("000", "000", "000", "000", "010"),
    " ": ("000", "000", "000", "000", "000"),
}
FONT = {ch: np.array([[c == "1" for c in row] for row in rows]) for ch, rows in _GLYPHS.items()}

CELL = 18
SCALE = 2
BACKGROUND = np.array([250, 250, 245], dtype=np.uint8)
GRID = np.array([200, 200, 200], dtype=np.uint8)
INK = np.array([20, 20, 20], dtype=np.uint8)
ROW_COLOURS = (
    np.array([255, 214, 165], dtype=np.uint8),
    np.array([173, 216, 230], dtype=np.uint8),
    np.array([200, 230, 170], dtype=np.uint8),
    np.array([230, 190, 230], dtype=np.uint8),
)


def text_mask(text: str, scale: int = SCALE) -> np.ndarray:
    """Boolean pixels of ``text`` in the 3×5 font, one column of spacing between glyphs."""
    glyphs = [np.pad(FONT.get(ch, FONT[" "]), ((0, 0), (0, 1))) for ch in text]
    mask = np.concatenate(glyphs, axis=1)[:, :-1] if glyphs else np.zeros((5, 0), dtype=bool)
    return mask.repeat(scale, axis=0).repeat(scale, axis=1)


def grid_image(cells: Sequence[Sequence[str]], pointers: Sequence[Sequence[int]]) -> np.ndarray:
    """An RGB image of a grid of short texts; ``pointers[r]`` lists the highlighted columns of row r."""
    rows, cols = len(cells), len(cells[0])
    width = max(len(text) for row in cells for text in row)
    cell_w = max(CELL, width * 4 * SCALE + 4)
    image = np.empty((rows * CELL + 1, cols * cell_w + 1, 3), dtype=np.uint8)
    image[:] = BACKGROUND
    for r in range(rows):
        for c in pointers[r]:
            image[r * CELL + 1 : (r + 1) * CELL, c * cell_w + 1 : (c + 1) * cell_w] = ROW_COLOURS[
                r % len(ROW_COLOURS)
            ]
        for c, text in enumerate(cells[r]):
            mask = text_mask(text)
            top = r * CELL + (CELL - mask.shape[0]) // 2
            left = c * cell_w + (cell_w - mask.shape[1]) // 2
            image[top : top + mask.shape[0], left : left + mask.shape[1]][mask] = INK
    image[::CELL, :] = GRID
    image[:, ::cell_w] = GRID
    return image
