/** Numbers as typed: text in, the number it denotes only when a number (a double) holds it exactly. */

/**
 * An integer literal (as typed) that a number cannot hold exactly: why, for a message that
 * shows the literal rather than the different number it would become; else undefined.
 */
export function inexactIntegerReason(literal: string): string | undefined {
  const text = literal.trim();
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = BigInt(text);
  const largest = BigInt(Number.MAX_SAFE_INTEGER);
  if (value <= largest && value >= -largest) return undefined;
  return `${text} is beyond the largest integer a number holds exactly (${Number.MAX_SAFE_INTEGER}; it would be read as ${Number(value)})`;
}

/** The number a command-line value denotes, or the text itself when it is not one a number holds exactly. */
export function numberFromText(text: string): number | string {
  return text.trim() !== '' && !Number.isNaN(Number(text)) && !inexactIntegerReason(text) ? Number(text) : text;
}
