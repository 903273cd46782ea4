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

/**
 * Builds a looping animated GIF frame by frame, with a fixed set of buffers: a frame is
 * compressed as soon as the next one arrives (the last one gets the longer hold), so
 * recording an episode keeps no frames in memory.
 */
export class AnimatedGifEncoder {
  private readonly encoder = GIFEncoder();
  private readonly toIndex: (red: number, green: number, blue: number) => number;
  private readonly gifPalette: Rgb[];
  private readonly transparentIndex: number;
  private readonly colorDepth: number;
  private readonly delay: number;
  /** The frame waiting to be written, the last one written, and the masked copy sent to gifenc. */
  private pending: Uint8Array;
  private written: Uint8Array;
  private readonly masked: Uint8Array;
  private pendingCount = 0;
  private writtenCount = 0;

  constructor(private readonly options: GifOptions) {
    const { width, height, palette } = options;
    if (palette.length === 0 || palette.length > 255) throw new RangeError(`GIF palette must hold 1..255 colours, got ${palette.length}`);
    // The slot after the colours marks unchanged pixels.
    this.transparentIndex = palette.length;
    this.colorDepth = Math.max(1, Math.ceil(Math.log2(palette.length + 1)));
    this.gifPalette = [...palette, [0, 0, 0] as Rgb];
    this.toIndex = nearestIndexer(palette);
    this.delay = Math.max(MIN_FRAME_DELAY_MS, options.frameDelayMs);
    this.pending = new Uint8Array(width * height);
    this.written = new Uint8Array(width * height);
    this.masked = new Uint8Array(width * height);
  }

  get frames(): number {
    return this.writtenCount + this.pendingCount;
  }

  /** Adds an RGB frame (row-major, 3 bytes per pixel); the caller may reuse `frame` at once. */
  addFrame(frame: Uint8Array): void {
    const { width, height } = this.options;
    if (frame.length !== width * height * 3) {
      throw new RangeError(`frame ${this.frames} has ${frame.length} bytes; ${width}x${height} RGB needs ${width * height * 3}`);
    }
    if (this.pendingCount > 0) this.writePending(this.delay);
    for (let p = 0, i = 0; p < this.pending.length; p++, i += 3) this.pending[p] = this.toIndex(frame[i]!, frame[i + 1]!, frame[i + 2]!);
    this.pendingCount = 1;
  }

  /** The GIF's bytes; the encoder cannot take frames after this. */
  finish(): Uint8Array {
    if (this.pendingCount === 0) throw new RangeError('a GIF needs at least one frame');
    this.writePending(Math.max(this.delay, this.options.finalFrameDelayMs ?? this.delay));
    this.encoder.finish();
    return this.encoder.bytes();
  }

  private writePending(delay: number): void {
    const first = this.writtenCount === 0;
    let indices = this.pending;
    if (!first) {
      for (let p = 0; p < indices.length; p++) this.masked[p] = indices[p] === this.written[p] ? this.transparentIndex : indices[p]!;
      indices = this.masked;
    }
    this.encoder.writeFrame(indices, this.options.width, this.options.height, {
      palette: this.gifPalette,
      delay,
      repeat: 0,
      colorDepth: this.colorDepth,
      transparent: !first,
      transparentIndex: this.transparentIndex,
      // 1 = keep this frame in place, so the next one only paints what changed.
      dispose: 1,
    });
    [this.written, this.pending] = [this.pending, this.written];
    this.pendingCount = 0;
    this.writtenCount++;
  }
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
