/** Whole seconds since the epoch, as tokens (`iat`, `exp`) and stored revocations count time. */
export function seconds(milliseconds: number): number {
  return Math.floor(milliseconds / 1000);
}

export function nowSeconds(): number {
  return seconds(Date.now());
}
