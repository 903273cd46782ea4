/**
 * Plain-ASCII frames of the classic-control envs, for terminals and logs. Every frame is
 * FRAME_WIDTH x FRAME_HEIGHT characters. Terminal cells are about twice as tall as wide,
 * so one world unit spans twice as many columns as rows to keep angles looking right.
 */
export const FRAME_WIDTH = 60;
export const FRAME_HEIGHT = 16;

/** A character grid; row 0 is the top line. */
class CharGrid {
  private readonly cells: string[][];

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.cells = Array.from({ length: height }, () => new Array<string>(width).fill(' '));
  }

  /** Sets one cell; points outside the grid are clipped silently. */
  plot(col: number, row: number, ch: string): void {
    const c = Math.round(col);
    const r = Math.round(row);
    if (c >= 0 && c < this.width && r >= 0 && r < this.height) this.cells[r]![c] = ch;
  }

  /** Writes text starting at a cell, clipped at the right edge. */
  text(col: number, row: number, s: string): void {
    for (let i = 0; i < s.length; i++) this.plot(col + i, row, s[i]!);
  }

  /** A straight segment, drawn with the character that best shows its slope. */
  line(col0: number, row0: number, col1: number, row1: number): void {
    const ch = slopeChar(col1 - col0, row1 - row0);
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(col1 - col0), Math.abs(row1 - row0))));
    for (let i = 0; i <= steps; i++) {
      const t = i / steps;
      this.plot(col0 + (col1 - col0) * t, row0 + (row1 - row0) * t, ch);
    }
  }

  toString(): string {
    return this.cells.map((row) => row.join('')).join('\n');
  }
}

/** '-', '|', '/' or '\' for a direction in screen cells (rows grow downwards). */
function slopeChar(dCol: number, dRow: number): string {
  // Compare in square units: a cell is about twice as tall as it is wide.
  const angle = Math.atan2(-dRow * 2, dCol); // radians, counter-clockwise from the right
  const folded = ((angle % Math.PI) + Math.PI) % Math.PI; // a line and its reverse look the same
  const eighth = Math.PI / 8;
  if (folded < eighth || folded >= 7 * eighth) return '-';
  if (folded < 3 * eighth) return '/';
  if (folded < 5 * eighth) return '|';
  return '\\';
}

/** Maps a world interval linearly onto [0, cells - 1]. */
function toCell(value: number, min: number, max: number, cells: number): number {
  return ((value - min) / (max - min)) * (cells - 1);
}

function formatSigned(value: number, digits: number): string {
  return (value < 0 ? '' : '+') + value.toFixed(digits);
}

// --- MountainCar -------------------------------------------------------------------------

export interface MountainCarGeometry {
  minPosition: number;
  maxPosition: number;
  goalPosition: number;
}

/** Height of the hill at a position, as in Gymnasium's renderer. */
function hillHeight(position: number): number {
  return Math.sin(3 * position) * 0.45 + 0.55;
}

/** The hill as a curve, the car '@' on it and the goal flag. */
export function renderMountainCar(position: number, velocity: number, geometry: MountainCarGeometry): string {
  const grid = new CharGrid(FRAME_WIDTH, FRAME_HEIGHT);
  const captionRow = FRAME_HEIGHT - 1;
  const bottomRow = captionRow - 1;
  const topRow = 3; // room for the flag above the highest point of the hill
  const column = (x: number): number => toCell(x, geometry.minPosition, geometry.maxPosition, FRAME_WIDTH);
  // Heights span [0.1, 1.0]; mapping from 0 keeps the valley floor off the bottom line.
  const row = (x: number): number => bottomRow - hillHeight(x) * (bottomRow - topRow);
  const positionPerColumn = (geometry.maxPosition - geometry.minPosition) / (FRAME_WIDTH - 1);

  for (let col = 0; col < FRAME_WIDTH; col++) {
    const x = geometry.minPosition + col * positionPerColumn;
    const slope = row(x + positionPerColumn / 2) - row(x - positionPerColumn / 2);
    grid.plot(col, row(x), Math.abs(slope) < 0.35 ? '_' : slope < 0 ? '/' : '\\');
  }

  const flagCol = column(geometry.goalPosition);
  const flagBase = row(geometry.goalPosition) - 1;
  grid.line(flagCol, flagBase, flagCol, flagBase - 2);
  grid.text(Math.round(flagCol) + 1, Math.round(flagBase) - 2, '>');

  grid.plot(column(position), row(position) - 1, '@');
  grid.text(0, captionRow, `position ${formatSigned(position, 3)}  velocity ${formatSigned(velocity, 4)}`);
  return grid.toString();
}

// --- CartPole ----------------------------------------------------------------------------

export interface CartPoleGeometry {
  xThreshold: number;
  /** Full pole length in world units (Gymnasium stores half of it as `length`). */
  poleLength: number;
}

/** The track with its end stops, the cart `[===]` and the pole leaning by `theta` (positive: right). */
export function renderCartPole(x: number, theta: number, geometry: CartPoleGeometry): string {
  const grid = new CharGrid(FRAME_WIDTH, FRAME_HEIGHT);
  const captionRow = FRAME_HEIGHT - 1;
  const trackRow = captionRow - 2;
  const cartRow = trackRow - 1;
  const columnsPerUnit = (FRAME_WIDTH - 1) / (2 * geometry.xThreshold);
  const rowsPerUnit = columnsPerUnit / 2;
  const cartCol = (x + geometry.xThreshold) * columnsPerUnit;

  for (let col = 0; col < FRAME_WIDTH; col++) grid.plot(col, trackRow, '-');
  grid.plot(0, trackRow, '|');
  grid.plot(FRAME_WIDTH - 1, trackRow, '|');

  const pivotRow = cartRow - 1;
  const tipCol = cartCol + Math.sin(theta) * geometry.poleLength * columnsPerUnit;
  const tipRow = pivotRow - Math.cos(theta) * geometry.poleLength * rowsPerUnit;
  grid.line(cartCol, pivotRow, tipCol, tipRow);
  grid.text(Math.round(cartCol) - 2, cartRow, '[===]');
  grid.plot(cartCol, pivotRow, 'o');

  grid.text(0, captionRow, `x ${formatSigned(x, 3)}  theta ${formatSigned(theta, 3)} rad`);
  return grid.toString();
}

// --- Acrobot -----------------------------------------------------------------------------

export interface AcrobotGeometry {
  link1Length: number;
  link2Length: number;
}

/**
 * The two links hanging from the pivot 'O' (joint 'o', free end '*'), and the dashed target
 * line one link length above the pivot. theta2 is relative to the first link.
 */
export function renderAcrobot(theta1: number, theta2: number, geometry: AcrobotGeometry): string {
  const grid = new CharGrid(FRAME_WIDTH, FRAME_HEIGHT);
  const captionRow = FRAME_HEIGHT - 1;
  const reach = geometry.link1Length + geometry.link2Length;
  // The pivot sits mid-way down the rows above the caption; fully stretched links touch their ends.
  const pivotRow = (captionRow - 1) / 2;
  const rowsPerUnit = pivotRow / reach;
  const columnsPerUnit = rowsPerUnit * 2;
  const pivotCol = (FRAME_WIDTH - 1) / 2;
  // World y points up, angle 0 hangs straight down.
  const toCol = (worldX: number): number => pivotCol + worldX * columnsPerUnit;
  const toRow = (worldY: number): number => pivotRow - worldY * rowsPerUnit;

  const targetRow = toRow(geometry.link1Length);
  for (let col = Math.round(toCol(-reach)); col <= toCol(reach); col += 2) grid.plot(col, targetRow, '-');

  const jointX = geometry.link1Length * Math.sin(theta1);
  const jointY = -geometry.link1Length * Math.cos(theta1);
  const tipX = jointX + geometry.link2Length * Math.sin(theta1 + theta2);
  const tipY = jointY - geometry.link2Length * Math.cos(theta1 + theta2);
  grid.line(toCol(0), toRow(0), toCol(jointX), toRow(jointY));
  grid.line(toCol(jointX), toRow(jointY), toCol(tipX), toRow(tipY));
  grid.plot(toCol(0), toRow(0), 'O');
  grid.plot(toCol(jointX), toRow(jointY), 'o');
  grid.plot(toCol(tipX), toRow(tipY), '*');

  grid.text(0, captionRow, `theta1 ${formatSigned(theta1, 3)}  theta2 ${formatSigned(theta2, 3)} rad`);
  return grid.toString();
}
