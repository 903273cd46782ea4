/**
 * A tiny anti-aliased rasteriser over an RGB byte buffer, enough to draw the classic-control
 * scenes: filled convex polygons, circles and thick line segments. Each shape is painted from
 * its signed distance (negative inside, in pixels), so edges get about one pixel of coverage
 * ramp without supersampling.
 */
import { maxOf, minOf } from '../util/extent.js';

/** A colour as [red, green, blue], each 0..255. */
export type Rgb = readonly [number, number, number];

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** Pixel-space box, inclusive of its edges; clipped to the canvas before painting. */
interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** Distance in pixels from a pixel centre to a shape's edge; negative inside. */
type SignedDistance = (x: number, y: number) => number;

/** Fraction of a pixel covered by a shape whose edge is `distance` pixels from its centre. */
function coverage(distance: number): number {
  return Math.min(1, Math.max(0, 0.5 - distance));
}

export class RgbCanvas {
  /** Row-major RGB, 3 bytes per pixel, row 0 at the top. */
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb,
    /** Draw into this buffer (width x height x 3 bytes) instead of a new one: recording reuses one. */
    pixels?: Uint8Array,
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new RangeError(`canvas size must be positive integers, got ${width}x${height}`);
    }
    if (pixels && pixels.length !== width * height * 3) throw new RangeError(`a ${width}x${height} canvas needs ${width * height * 3} bytes, got ${pixels.length}`);
    this.pixels = pixels ?? new Uint8Array(width * height * 3);
    for (let i = 0; i < this.pixels.length; i += 3) this.pixels.set(background, i);
  }

  /** Paints `color` over every pixel whose centre lies within `radius` pixels of `center`. */
  fillCircle(center: Point, radius: number, color: Rgb): void {
    const bounds = { minX: center.x - radius, minY: center.y - radius, maxX: center.x + radius, maxY: center.y + radius };
    this.paint(bounds, (x, y) => Math.hypot(x - center.x, y - center.y) - radius, color);
  }

  /** A line `thickness` pixels wide with round caps. */
  strokeSegment(from: Point, to: Point, thickness: number, color: Rgb): void {
    const halfWidth = thickness / 2;
    const bounds = {
      minX: Math.min(from.x, to.x) - halfWidth,
      minY: Math.min(from.y, to.y) - halfWidth,
      maxX: Math.max(from.x, to.x) + halfWidth,
      maxY: Math.max(from.y, to.y) + halfWidth,
    };
    this.paint(bounds, (x, y) => distanceToSegment(x, y, from, to) - halfWidth, color);
  }

  /** Consecutive segments through `points`, joined by their round caps. */
  strokePolyline(points: readonly Point[], thickness: number, color: Rgb): void {
    for (let i = 1; i < points.length; i++) this.strokeSegment(points[i - 1]!, points[i]!, thickness, color);
  }

  /** A convex polygon given by its corners in either winding order. */
  fillConvexPolygon(corners: readonly Point[], color: Rgb): void {
    if (corners.length < 3) return;
    const xs = corners.map((p) => p.x);
    const ys = corners.map((p) => p.y);
    const bounds = { minX: minOf(xs), minY: minOf(ys), maxX: maxOf(xs), maxY: maxOf(ys) };
    this.paint(bounds, convexPolygonDistance(corners), color);
  }

  /** Fills every pixel below `surfaceY(x)` (a y for each x, in pixels), e.g. the ground under a hill. */
  fillBelow(surfaceY: (x: number) => number, color: Rgb): void {
    for (let px = 0; px < this.width; px++) {
      const top = surfaceY(px + 0.5);
      for (let py = Math.max(0, Math.floor(top)); py < this.height; py++) {
        this.blend(px, py, color, coverage(top - (py + 0.5)));
      }
    }
  }

  /** The colour at a pixel, for tests and checks. */
  colorAt(x: number, y: number): Rgb {
    const i = (y * this.width + x) * 3;
    return [this.pixels[i]!, this.pixels[i + 1]!, this.pixels[i + 2]!];
  }

  private paint(bounds: Bounds, signedDistance: SignedDistance, color: Rgb): void {
    // One extra pixel each side holds the anti-aliased edge.
    const minX = Math.max(0, Math.floor(bounds.minX - 1));
    const minY = Math.max(0, Math.floor(bounds.minY - 1));
    const maxX = Math.min(this.width - 1, Math.ceil(bounds.maxX + 1));
    const maxY = Math.min(this.height - 1, Math.ceil(bounds.maxY + 1));
    for (let py = minY; py <= maxY; py++) {
      for (let px = minX; px <= maxX; px++) {
        this.blend(px, py, color, coverage(signedDistance(px + 0.5, py + 0.5)));
      }
    }
  }

  private blend(x: number, y: number, color: Rgb, alpha: number): void {
    if (alpha <= 0) return;
    const i = (y * this.width + x) * 3;
    for (let c = 0; c < 3; c++) {
      const current = this.pixels[i + c]!;
      this.pixels[i + c] = Math.round(current + (color[c]! - current) * alpha);
    }
  }
}

function distanceToSegment(x: number, y: number, from: Point, to: Point): number {
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  const lengthSquared = dx * dx + dy * dy;
  const t = lengthSquared === 0 ? 0 : Math.min(1, Math.max(0, ((x - from.x) * dx + (y - from.y) * dy) / lengthSquared));
  return Math.hypot(x - (from.x + t * dx), y - (from.y + t * dy));
}

/**
 * The largest signed distance to the polygon's edge lines: exact along the edges, slightly
 * rounded off at the corners, which is all anti-aliasing needs.
 */
function convexPolygonDistance(corners: readonly Point[]): SignedDistance {
  // Outward normals depend on the winding: the sign of the shoelace area tells which it is.
  let twiceArea = 0;
  for (let i = 0; i < corners.length; i++) {
    const a = corners[i]!;
    const b = corners[(i + 1) % corners.length]!;
    twiceArea += a.x * b.y - b.x * a.y;
  }
  const orientation = twiceArea >= 0 ? 1 : -1;
  const edges = corners.map((a, i) => {
    const b = corners[(i + 1) % corners.length]!;
    const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
    return { a, normalX: (orientation * (b.y - a.y)) / length, normalY: (orientation * (a.x - b.x)) / length };
  });
  return (x, y) => {
    let distance = -Infinity;
    for (const { a, normalX, normalY } of edges) distance = Math.max(distance, (x - a.x) * normalX + (y - a.y) * normalY);
    return distance;
  };
}
