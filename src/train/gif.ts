/**
 * Animated GIFs from RGB frames, encoded by gifenc. Frames of the classic-control scenes have
 * few colours and change little from one to the next, so each frame is mapped onto one fixed
 * palette and, after the first, every pixel that did not change is made transparent: those long
 * runs of one index compress to almost nothing, keeping an episode's GIF small.
 */
import { createRequire } from 'node:module';
import type * as Gifenc from 'gifenc';
import type { Rgb } from '../envs/render-rgb.js';

// gifenc is CommonJS without hints for named imports, and ESM loaders disagree on what its
// default import is; require() returns the same exports object under all of them.
const { GIFEncoder } = createRequire(import.meta.url)('gifenc') as typeof Gifenc;

export interface GifOptions {
  width: number;
  height: number;
  /** Milliseconds per frame; browsers play delays under 20 ms slowly, so it is raised to 20. */
  frameDelayMs: number;
  /** Milliseconds the last frame stays before the animation loops, so the outcome can be seen. */
  finalFrameDelayMs?: number;
  /** Colours of the frames; pixels of other colours take the nearest. At most 255 entries. */
  palette: readonly Rgb[];
}

/** Browsers treat GIF delays below 20 ms as 100 ms; this is the fastest delay that plays as written. */
const MIN_FRAME_DELAY_MS = 20;

/** Encodes RGB frames (row-major, 3 bytes per pixel) as a GIF that loops forever. */
export function encodeAnimatedGif(frames: readonly Uint8Array[], options: GifOptions): Uint8Array {
  const { width, height, palette } = options;
  if (frames.length === 0) throw new RangeError('a GIF needs at least one frame');
  if (palette.length === 0 || palette.length > 255) throw new RangeError(`GIF palette must hold 1..255 colours, got ${palette.length}`);
  // The slot after the colours marks unchanged pixels.
  const transparentIndex = palette.length;
  const colorDepth = Math.max(1, Math.ceil(Math.log2(palette.length + 1)));
  const gifPalette = [...palette, [0, 0, 0] as Rgb];
  const toIndex = nearestIndexer(palette);
  const delay = Math.max(MIN_FRAME_DELAY_MS, options.frameDelayMs);

  const encoder = GIFEncoder();
  let previous: Uint8Array | undefined;
  frames.forEach((frame, i) => {
    if (frame.length !== width * height * 3) {
      throw new RangeError(`frame ${i} has ${frame.length} bytes; ${width}x${height} RGB needs ${width * height * 3}`);
    }
    const indices = indexFrame(frame, toIndex);
    const isLast = i === frames.length - 1;
    encoder.writeFrame(previous ? maskUnchanged(indices, previous, transparentIndex) : indices, width, height, {
      palette: gifPalette,
      delay: isLast ? Math.max(delay, options.finalFrameDelayMs ?? delay) : delay,
      repeat: 0,
      colorDepth,
      transparent: previous !== undefined,
      transparentIndex,
      // 1 = keep this frame in place, so the next one only paints what changed.
      dispose: 1,
    });
    previous = indices;
  });
  encoder.finish();
  return encoder.bytes();
}

/** Maps an RGB colour to its palette index; exact colours hit the cache at once. */
function nearestIndexer(palette: readonly Rgb[]): (red: number, green: number, blue: number) => number {
  const cache = new Map<number, number>();
  return (red, green, blue) => {
    const key = (red << 16) | (green << 8) | blue;
    let index = cache.get(key);
    if (index === undefined) {
      index = nearestColor(palette, red, green, blue);
      cache.set(key, index);
    }
    return index;
  };
}

function nearestColor(palette: readonly Rgb[], red: number, green: number, blue: number): number {
  let best = 0;
  let bestDistance = Infinity;
  palette.forEach(([r, g, b], i) => {
    const distance = (r - red) ** 2 + (g - green) ** 2 + (b - blue) ** 2;
    if (distance < bestDistance) {
      best = i;
      bestDistance = distance;
    }
  });
  return best;
}

function indexFrame(frame: Uint8Array, toIndex: (red: number, green: number, blue: number) => number): Uint8Array {
  const indices = new Uint8Array(frame.length / 3);
  for (let p = 0, i = 0; p < indices.length; p++, i += 3) indices[p] = toIndex(frame[i]!, frame[i + 1]!, frame[i + 2]!);
  return indices;
}

function maskUnchanged(indices: Uint8Array, previous: Uint8Array, transparentIndex: number): Uint8Array {
  const masked = new Uint8Array(indices.length);
  for (let p = 0; p < indices.length; p++) masked[p] = indices[p] === previous[p] ? transparentIndex : indices[p]!;
  return masked;
}
