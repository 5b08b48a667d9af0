/**
 * A dollar amount for a message, by the dashboard's rule so an error message and the Costs page
 * agree: cents from one dollar up; below it three significant digits (at least two decimals),
 * since one reply often costs a fraction of a cent that "$0.00" would hide.
 */
export function usdText(value: number): string {
  if (!Number.isFinite(value) || value === 0) return '$0.00';
  const abs = Math.abs(value);
  const sign = value < 0 ? '-' : '';
  if (abs < 1) {
    const digits = Math.min(10, Math.max(2, 2 - Math.floor(Math.log10(abs))));
    return `${sign}$${abs.toFixed(digits).replace(/(\.\d\d\d*?)0+$/, '$1')}`;
  }
  return `${sign}$${abs.toFixed(2)}`;
}
