/**
 * One labelled setting of the run setup, typed as text so any number form ("0.001", "1e-3") can be
 * entered; the value is read and checked when a run starts, and its error is shown under it.
 */

import type { SetupField } from '../../state/run-setup';
import { useAppStore } from '../../state/store';

interface SettingFieldProps {
  field: SetupField;
  label: string;
  hint?: string;
  error?: string;
}

export function SettingField({ field, label, hint, error }: SettingFieldProps) {
  const value = useAppStore((s) => s.setup.fields[field]);
  const setField = useAppStore((s) => s.setField);
  const id = `setting-${field}`;
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  return (
    <div className="setting">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        data-testid={id}
        type="text"
        inputMode="decimal"
        autoComplete="off"
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        onChange={(event) => setField(field, event.target.value)}
      />
      {hint && (
        <small id={`${id}-hint`} className="muted">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} className="field-error">
          {error}
        </small>
      )}
    </div>
  );
}
