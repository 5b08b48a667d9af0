import { utcDay } from '../lib/format';

/** A [from, to] range of UTC days ("YYYY-MM-DD"), `to` included. */
export interface DayRange {
  from: string;
  to: string;
}

/** The current month so far: the first of the month (UTC) to today. */
export function thisMonth(now: Date = new Date()): DayRange {
  return { from: `${utcDay(now).slice(0, 8)}01`, to: utcDay(now) };
}

/** Two date fields, From and To (UTC days, both included). */
export function DateRangeFields({ idPrefix, value, onChange }: { idPrefix: string; value: DayRange; onChange: (range: DayRange) => void }) {
  return (
    <fieldset className="date-range">
      <legend>Date range (UTC)</legend>
      <div className="field">
        <label htmlFor={`${idPrefix}-from`}>From</label>
        <input id={`${idPrefix}-from`} type="date" value={value.from} max={value.to} onChange={(e) => e.target.value && onChange({ ...value, from: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor={`${idPrefix}-to`}>To</label>
        <input id={`${idPrefix}-to`} type="date" value={value.to} min={value.from} onChange={(e) => e.target.value && onChange({ ...value, to: e.target.value })} />
      </div>
    </fieldset>
  );
}
