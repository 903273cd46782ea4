/**
 * RGB frames of the classic-control envs, drawn after Gymnasium's own renderers (same shapes,
 * colours and proportions) and scaled to any size: the pictures behind the policy GIFs in
 * TensorBoard, `run.ts --record` and the sweep report. The text renderer stays for terminals.
 *
 * Only `env.getState()` is read, so drawing never disturbs an episode.
 */
import type { Env } from './types.js';
import { type Point, type Rgb, RgbCanvas } from './rgb-canvas.js';

export type { Rgb } from './rgb-canvas.js';

/** Gymnasium's scene colours; every frame is drawn with these alone (plus edge blends). */
const COLOR = {
  background: [255, 255, 255],
  ink: [0, 0, 0],
  ground: [226, 232, 240],
  wheel: [128, 128, 128],
  flag: [204, 204, 0],
  pole: [202, 152, 101],
  axle: [129, 132, 203],
  link: [0, 204, 204],
  joint: [204, 204, 0],
} as const satisfies Record<string, Rgb>;

/** Edge blends of each colour over the background, so anti-aliased frames keep a small exact palette. */
const BLEND_LEVELS = [0.25, 0.5, 0.75];

/**
 * Every colour a frame can hold (up to blends of one shape over another, which a GIF encoder
 * maps to the nearest entry). Background first. At most 31 entries, so a 32-colour GIF palette
 * keeps one slot free for transparency.
 */
export const RENDER_PALETTE: readonly Rgb[] = Object.freeze(buildPalette());

function buildPalette(): Rgb[] {
  const unique = new Map<string, Rgb>();
  const add = (color: Rgb): void => {
    unique.set(color.join(','), color);
  };
  add(COLOR.background);
  for (const color of Object.values(COLOR)) {
    add(color);
    for (const level of BLEND_LEVELS) {
      add(color.map((channel, i) => Math.round(COLOR.background[i]! + (channel - COLOR.background[i]!) * level)) as unknown as Rgb);
    }
  }
  return [...unique.values()];
}

/** Maps world coordinates (y up) onto pixels (y down) with one scale for both axes, centred. */
class Viewport {
  /** Pixels per world unit. */
  readonly scale: number;
  private readonly offsetX: number;
  private readonly offsetY: number;

  constructor(width: number, height: number, world: { minX: number; maxX: number; minY: number; maxY: number }) {
    this.scale = Math.min(width / (world.maxX - world.minX), height / (world.maxY - world.minY));
    this.offsetX = (width - (world.maxX - world.minX) * this.scale) / 2 - world.minX * this.scale;
    this.offsetY = height - (height - (world.maxY - world.minY) * this.scale) / 2 + world.minY * this.scale;
  }

  toPixel(x: number, y: number): Point {
    return { x: this.offsetX + x * this.scale, y: this.offsetY - y * this.scale };
  }

  /** A world length in pixels, never thinner than `minPixels` so small frames stay legible. */
  length(worldLength: number, minPixels = 1): number {
    return Math.max(minPixels, worldLength * this.scale);
  }
}

/** A point of a shape given in its own frame, rotated by `angle` (radians, counter-clockwise) and moved to `origin`. */
function placed(origin: { x: number; y: number }, angle: number, local: { x: number; y: number }): { x: number; y: number } {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  return { x: origin.x + local.x * cos - local.y * sin, y: origin.y + local.x * sin + local.y * cos };
}

// --- MountainCar -------------------------------------------------------------------------
// Geometry mirrors src/envs/mountain-car.ts and Gymnasium's renderer (600 px = 1.8 units).

const MOUNTAIN_CAR = {
  minPosition: -1.2,
  maxPosition: 0.6,
  goalPosition: 0.5,
  // Gymnasium's car (0.12 x 0.06) made a third larger, to stay legible in small frames.
  carWidth: 0.16,
  carHeight: 0.08,
  clearance: 0.03,
  flagHeight: 0.15,
  flagLength: 0.075,
  flagDepth: 0.03,
};

function hillHeight(position: number): number {
  return Math.sin(3 * position) * 0.45 + 0.55;
}

function drawMountainCar(canvas: RgbCanvas, state: readonly number[]): void {
  const g = MOUNTAIN_CAR;
  const view = new Viewport(canvas.width, canvas.height, { minX: g.minPosition, maxX: g.maxPosition, minY: 0, maxY: 1.2 });
  const toPixel = (p: { x: number; y: number }): Point => view.toPixel(p.x, p.y);
  const positionAtPixel = (px: number): number => g.minPosition + (px - view.toPixel(g.minPosition, 0).x) / view.scale;
  const groundTop = (px: number): number => {
    const position = positionAtPixel(px);
    const onTrack = position >= g.minPosition && position <= g.maxPosition;
    return onTrack ? view.toPixel(0, hillHeight(position)).y : canvas.height;
  };

  canvas.fillBelow(groundTop, COLOR.ground);
  const curve = Array.from({ length: 91 }, (_, i) => {
    const x = g.minPosition + ((g.maxPosition - g.minPosition) * i) / 90;
    return view.toPixel(x, hillHeight(x));
  });
  canvas.strokePolyline(curve, view.length(0.006, 1.2), COLOR.ink);

  const flagBase = { x: g.goalPosition, y: hillHeight(g.goalPosition) };
  const flagTop = { x: flagBase.x, y: flagBase.y + g.flagHeight };
  canvas.strokeSegment(toPixel(flagBase), toPixel(flagTop), view.length(0.006, 1), COLOR.ink);
  canvas.fillConvexPolygon([flagTop, { x: flagTop.x, y: flagTop.y - g.flagDepth }, { x: flagTop.x + g.flagLength, y: flagTop.y - g.flagDepth / 2 }].map(toPixel), COLOR.flag);

  const position = state[0]!;
  const onHill = { x: position, y: hillHeight(position) };
  const angle = Math.atan(1.35 * Math.cos(3 * position)); // slope of the hill
  const body = [
    { x: -g.carWidth / 2, y: g.clearance },
    { x: g.carWidth / 2, y: g.clearance },
    { x: g.carWidth / 2, y: g.clearance + g.carHeight },
    { x: -g.carWidth / 2, y: g.clearance + g.carHeight },
  ];
  canvas.fillConvexPolygon(
    body.map((corner) => toPixel(placed(onHill, angle, corner))),
    COLOR.ink,
  );
  for (const side of [-1, 1]) {
    const wheel = toPixel(placed(onHill, angle, { x: (side * g.carWidth) / 4, y: g.clearance }));
    canvas.fillCircle(wheel, view.length(g.carHeight / 2.5, 1.2), COLOR.wheel);
  }
}

// --- CartPole ----------------------------------------------------------------------------
// Geometry mirrors src/envs/cartpole.ts and Gymnasium's renderer (600 px = 4.8 units).

const CART_POLE = {
  xThreshold: 2.4,
  poleLength: 1.0,
  poleWidth: 0.08,
  cartWidth: 0.4,
  cartHeight: 0.24,
  trackY: 0.8,
};

function drawCartPole(canvas: RgbCanvas, state: readonly number[]): void {
  const g = CART_POLE;
  // A little room past the end stops, so a cart at the limit stays whole.
  const margin = g.cartWidth / 2;
  const view = new Viewport(canvas.width, canvas.height, {
    minX: -g.xThreshold - margin,
    maxX: g.xThreshold + margin,
    minY: 0.2,
    maxY: g.trackY + g.poleLength + 0.6,
  });
  const [x, , theta] = [state[0]!, state[1]!, state[2]!];

  canvas.strokeSegment(view.toPixel(-g.xThreshold - margin, g.trackY), view.toPixel(g.xThreshold + margin, g.trackY), view.length(0.01, 1), COLOR.ink);
  const left = x - g.cartWidth / 2;
  const right = x + g.cartWidth / 2;
  const bottom = g.trackY - g.cartHeight / 2;
  const top = g.trackY + g.cartHeight / 2;
  canvas.fillConvexPolygon([view.toPixel(left, bottom), view.toPixel(right, bottom), view.toPixel(right, top), view.toPixel(left, top)], COLOR.ink);

  // theta > 0 leans the pole to the right.
  const axle = { x, y: g.trackY + g.cartHeight / 4 };
  const tip = { x: axle.x + g.poleLength * Math.sin(theta), y: axle.y + g.poleLength * Math.cos(theta) };
  canvas.strokeSegment(view.toPixel(axle.x, axle.y), view.toPixel(tip.x, tip.y), view.length(g.poleWidth, 1.5), COLOR.pole);
  canvas.fillCircle(view.toPixel(axle.x, axle.y), view.length(g.poleWidth / 2, 1), COLOR.axle);
}

// --- Acrobot -----------------------------------------------------------------------------
// Geometry mirrors src/envs/acrobot.ts and Gymnasium's renderer (links 1 unit, 0.2 wide).

const ACROBOT = {
  link1Length: 1.0,
  link2Length: 1.0,
  linkWidth: 0.2,
  jointRadius: 0.1,
};

function drawAcrobot(canvas: RgbCanvas, state: readonly number[]): void {
  const g = ACROBOT;
  const bound = g.link1Length + g.link2Length + 0.2;
  const view = new Viewport(canvas.width, canvas.height, { minX: -bound, maxX: bound, minY: -bound, maxY: bound });
  const [theta1, theta2] = [state[0]!, state[1]!];

  // The target: the free end must rise above this line, one link length over the pivot.
  canvas.strokeSegment(view.toPixel(-bound, g.link1Length), view.toPixel(bound, g.link1Length), view.length(0.01, 1), COLOR.ink);
  // Angle 0 hangs straight down; theta2 is relative to the first link.
  const joint = { x: g.link1Length * Math.sin(theta1), y: -g.link1Length * Math.cos(theta1) };
  const tip = { x: joint.x + g.link2Length * Math.sin(theta1 + theta2), y: joint.y - g.link2Length * Math.cos(theta1 + theta2) };
  const pixels = [{ x: 0, y: 0 }, joint, tip].map((p) => view.toPixel(p.x, p.y));
  const linkWidth = view.length(g.linkWidth, 2);
  canvas.strokeSegment(pixels[0]!, pixels[1]!, linkWidth, COLOR.link);
  canvas.strokeSegment(pixels[1]!, pixels[2]!, linkWidth, COLOR.link);
  for (const point of pixels.slice(0, 2)) canvas.fillCircle(point, view.length(g.jointRadius, 1), COLOR.joint);
}

// --- Dispatch ----------------------------------------------------------------------------

type SceneDrawer = (canvas: RgbCanvas, state: readonly number[]) => void;

const DRAWERS: ReadonlyMap<string, SceneDrawer> = new Map([
  ['MountainCar-v0', drawMountainCar],
  ['CartPole-v0', drawCartPole],
  ['CartPole-v1', drawCartPole],
  ['Acrobot-v1', drawAcrobot],
]);

/** Gymnasium's render_fps: the speed at which an episode looks real-time. */
const RENDER_FPS: ReadonlyMap<string, number> = new Map([
  ['MountainCar-v0', 30],
  ['CartPole-v0', 50],
  ['CartPole-v1', 50],
  ['Acrobot-v1', 15],
]);

export function renderFps(envId: string): number {
  return RENDER_FPS.get(envId) ?? 30;
}

/** Whether `renderRgb` can draw this env: a built-in scene, or the env's own renderRgb. */
export function canRenderRgb(env: Env): boolean {
  return DRAWERS.has(env.id) || typeof env.renderRgb === 'function';
}

/**
 * Colours a GIF of this env uses: the built-in scenes' exact palette, or for an env's own
 * renderer a 6x6x6 colour cube plus greys (pixels take the nearest), which fits a GIF's 255.
 */
export function paletteFor(env: Env): readonly Rgb[] {
  return DRAWERS.has(env.id) ? RENDER_PALETTE : GENERAL_PALETTE;
}

const GENERAL_PALETTE: readonly Rgb[] = Object.freeze(buildGeneralPalette());

function buildGeneralPalette(): Rgb[] {
  const levels = [0, 51, 102, 153, 204, 255];
  const colors: Rgb[] = [[255, 255, 255]];
  for (const red of levels) for (const green of levels) for (const blue of levels) if (red + green + blue < 765) colors.push([red, green, blue]);
  // Greys between the cube's levels, for smooth shading.
  for (let grey = 25; grey < 255; grey += 51) colors.push([grey, grey, grey]);
  return colors;
}

/** The env's current frame as row-major RGB bytes (3 per pixel, row 0 at the top). */
export function renderRgb(env: Env, width: number, height: number, into?: Uint8Array): Uint8Array {
  const draw = DRAWERS.get(env.id);
  if (!draw) {
    if (env.renderRgb) return checkedFrame(env, env.renderRgb(width, height, into), width, height);
    throw new Error(`env "${env.id}" cannot draw RGB frames: it is not a built-in env (${[...DRAWERS.keys()].join(', ')}) and has no renderRgb(width, height) method`);
  }
  const canvas = new RgbCanvas(width, height, COLOR.background, into);
  draw(canvas, env.getState().state);
  return canvas.pixels;
}

function checkedFrame(env: Env, frame: Uint8Array, width: number, height: number): Uint8Array {
  if (!(frame instanceof Uint8Array) || frame.length !== width * height * 3) {
    const got = frame instanceof Uint8Array ? `${frame.length} bytes` : String(frame);
    throw new Error(`env "${env.id}": renderRgb(${width}, ${height}) must return a Uint8Array of ${width * height * 3} bytes (RGB, row by row), got ${got}`);
  }
  return frame;
}

/** Scene colours by name, for tests that look for an object's pixels. */
export const RENDER_COLORS: Readonly<Record<keyof typeof COLOR, Rgb>> = COLOR;
