/**
 * Python source for plain values, so generated scripts hold their settings as literals that
 * `ast.literal_eval` reads back (the export tests do exactly that). Values are the PEFT writer's
 * `PythonJson`: null, booleans, integers, `PythonFloat` (a float keeps its ".0", as PEFT types it), strings,
 * lists and dicts. A bare JS number must be an integer; a float-typed value is wrapped in `PythonFloat`.
 * Strings are written as JSON writes them, which is a valid Python string literal.
 */
import { PythonFloat, type PythonJson, pythonFloatRepr } from '../peft/format/python-json';

export { PythonFloat, type PythonJson };

/** A float-typed value (learning rates, betas, dropout): `PythonFloat`, so 1 is written 1.0. */
export const float = (value: number) => new PythonFloat(value);

function literal(value: PythonJson, indent: string): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof PythonFloat) return pythonFloatRepr(value.value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new RangeError(`${value} is not an integer; wrap float-typed values in PythonFloat.`);
    return String(value);
  }
  const inner = `${indent}    `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((v) => literal(v, inner));
    const oneLine = `[${items.join(', ')}]`;
    if (oneLine.length + indent.length <= 100 && !oneLine.includes('\n')) return oneLine;
    return `[\n${items.map((item) => `${inner}${item},`).join('\n')}\n${indent}]`;
  }
  const record = value as { readonly [key: string]: PythonJson };
  const keys = Object.keys(record);
  if (keys.length === 0) return '{}';
  const items = keys.map((k) => `${inner}${JSON.stringify(k)}: ${literal(record[k] as PythonJson, inner)},`);
  return `{\n${items.join('\n')}\n${indent}}`;
}

/** The Python literal for a value, nested blocks indented by four spaces from `indent`. */
export function pythonLiteral(value: PythonJson, indent = ''): string {
  return literal(value, indent);
}
