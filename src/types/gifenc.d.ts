/** Types for the parts of gifenc (https://github.com/mattdesl/gifenc) that rlsweep uses; the package ships none. */
declare module 'gifenc' {
  export type GifPalette = ReadonlyArray<readonly number[]>;

  export interface WriteFrameOptions {
    /** Required on the first frame (it becomes the global colour table). */
    palette?: GifPalette;
    /** Milliseconds this frame shows. */
    delay?: number;
    /** -1 plays once, 0 loops forever, n > 0 repeats n times. */
    repeat?: number;
    transparent?: boolean;
    transparentIndex?: number;
    /** GIF disposal method; -1 lets the encoder choose. */
    dispose?: number;
    /** Bits per palette index (1..8); must cover every index used. */
    colorDepth?: number;
  }

  export interface GifEncoderStream {
    writeFrame(index: Uint8Array, width: number, height: number, options?: WriteFrameOptions): void;
    finish(): void;
    /** A copy of the encoded bytes so far. */
    bytes(): Uint8Array;
  }

  /** A GIF stream; with `auto` (the default) the first frame also writes the header. */
  export function GIFEncoder(options?: { initialCapacity?: number; auto?: boolean }): GifEncoderStream;
}
