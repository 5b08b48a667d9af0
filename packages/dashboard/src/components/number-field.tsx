import type { InputHTMLAttributes } from 'react';

/** A labelled number input whose value stays text (empty means "not set"). */
export function NumberField({
  id,
  label,
  value,
  onChange,
  ...input
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
} & Pick<InputHTMLAttributes<HTMLInputElement>, 'min' | 'max' | 'step' | 'inputMode' | 'placeholder'>) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="number" {...input} value={value} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}
