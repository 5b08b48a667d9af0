const USD_CENTS = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });

/**
 * A dollar amount as people read it, the one rule of the dashboard and the runtime's messages (so
 * an error message and the Costs page agree): cents from one dollar up, with thousands
 * separators; below it three significant digits (at least two decimals), since one reply often
 * costs a fraction of a cent that "$0.00" would hide.
 */
export function usdText(value: number): string {
  if (!Number.isFinite(value) || value === 0) return '$0.00';
  const abs = Math.abs(value);
  if (abs >= 1) return USD_CENTS.format(value);
  const digits = Math.min(10, Math.max(2, 2 - Math.floor(Math.log10(abs))));
  return `${value < 0 ? '-' : ''}$${abs.toFixed(digits).replace(/(\.\d\d\d*?)0+$/, '$1')}`;
}
