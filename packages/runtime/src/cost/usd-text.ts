/**
 * A dollar amount for a message: cents under a dollar, and three significant digits under one
 * cent (one reply often costs a fraction of a cent, which "$0.00" would hide). Matches how the
 * dashboard shows amounts, so an error message and the Costs page agree.
 */
export function usdText(value: number): string {
  if (!Number.isFinite(value) || value === 0) return '$0.00';
  const abs = Math.abs(value);
  const sign = value < 0 ? '-' : '';
  if (abs < 0.01) {
    const digits = Math.min(10, Math.max(3, 2 - Math.floor(Math.log10(abs))));
    return `${sign}$${abs.toFixed(digits).replace(/0+$/, '')}`;
  }
  return `${sign}$${abs.toFixed(2)}`;
}
