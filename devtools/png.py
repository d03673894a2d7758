"""A small line-chart PNG writer for the local AWS front's GetMetricWidgetImage (no imaging
library needed): series as coloured lines on a grid, horizontal annotations as dashed lines."""

from __future__ import annotations

import itertools
import struct
import zlib

Colour = tuple[int, int, int]
PALETTE: list[Colour] = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14)]
GRID: Colour = (228, 228, 228)
ANNOTATION: Colour = (120, 120, 120)


class Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(b"\xff" * (width * height * 3))

    def dot(self, x: int, y: int, colour: Colour) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            i = (y * self.width + x) * 3
            self.pixels[i : i + 3] = bytes(colour)

    def line(self, x0: int, y0: int, x1: int, y1: int, colour: Colour, dash: int = 0) -> None:
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err, step = dx + dy, 0
        while True:
            if not dash or (step // dash) % 2 == 0:
                self.dot(x0, y0, colour)
                self.dot(x0, y0 + 1, colour)
            if x0 == x1 and y0 == y1:
                return
            step += 1
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def png(self) -> bytes:
        rows = b"".join(
            b"\x00" + bytes(self.pixels[y * self.width * 3 : (y + 1) * self.width * 3])
            for y in range(self.height)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9))
            + chunk(b"IEND", b"")
        )


def chart(
    series: list[list[float]], lines: list[float], width: int = 600, height: int = 300
) -> bytes:
    """Each series (values in time order) as a line, each of `lines` as a dashed horizontal."""
    canvas = Canvas(width, height)
    pad = 20
    for i in range(5):
        y = pad + i * (height - 2 * pad) // 4
        canvas.line(pad, y, width - pad, y, GRID)
    top = max([v for s in series for v in s] + lines + [1.0]) * 1.1

    def y_of(value: float) -> int:
        return int(height - pad - value / top * (height - 2 * pad))

    for value in lines:
        canvas.line(pad, y_of(value), width - pad, y_of(value), ANNOTATION, dash=6)
    for n, values in enumerate(series):
        if not values:
            continue
        colour = PALETTE[n % len(PALETTE)]
        step = (width - 2 * pad) / max(1, len(values) - 1)
        points = [(int(pad + i * step), y_of(v)) for i, v in enumerate(values)]
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            canvas.line(x0, y0, x1, y1, colour)
        if len(points) == 1:
            canvas.line(points[0][0] - 2, points[0][1], points[0][0] + 2, points[0][1], colour)
    return canvas.png()
