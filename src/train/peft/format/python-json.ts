/**
 * JSON text byte-for-byte as Python's `json.dumps(value, indent=2, sort_keys=True)` writes it, which is
 * how PEFT writes adapter_config.json (peft/config.py, PeftConfigMixin.save_pretrained). That differs
 * from JSON.stringify in three ways that matter here: keys are sorted, every non-ASCII character is
 * escaped (`ensure_ascii`), and a Python float keeps its ".0" (0.0, 1e-05). JavaScript has one number
 * type, so a value PEFT types as float is wrapped in `PythonFloat`; a bare number must be an integer.
 */

export class PythonFloat {
  constructor(readonly value: number) {}
}

export type PythonJson =
  | null
  | boolean
  | number
  | string
  | PythonFloat
  | readonly PythonJson[]
  | { readonly [key: string]: PythonJson };

/** repr(float): the shortest round-trip digits (as JS finds them), in Python's layout. */
export function pythonFloatRepr(value: number): string {
  if (!Number.isFinite(value))
    throw new RangeError(`${value} has no JSON form; PEFT configs hold finite floats.`);
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa = '', exp = '0'] = value.toExponential().split('e');
  const exponent = Number(exp);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  // CPython's float_repr_style 'short' switches to exponent form outside 1e-4 <= |x| < 1e16.
  if (exponent < -4 || exponent >= 16) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exponent).toString().padStart(2, '0');
    return `${sign}${body}e${exponent < 0 ? '-' : '+'}${e}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}.${fraction || '0'}`;
}

function pythonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    const ch = s[i] as string;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    // Python escapes by UTF-16 code unit too, so an astral character becomes its surrogate pair.
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function dump(value: PythonJson, indent: string): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return pythonString(value);
  if (value instanceof PythonFloat) return pythonFloatRepr(value.value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new RangeError(`${value} is not an integer; wrap float-typed values in PythonFloat.`);
    return String(value);
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + dump(v, inner)).join(',\n')}\n${indent}]`;
  }
  const record = value as { readonly [key: string]: PythonJson };
  // Python sorts str keys by code point; these keys are ASCII, where UTF-16 order is the same.
  const keys = Object.keys(record).sort();
  if (keys.length === 0) return '{}';
  const items = keys.map((k) => `${inner}${pythonString(k)}: ${dump(record[k] as PythonJson, inner)}`);
  return `{\n${items.join(',\n')}\n${indent}}`;
}

/** json.dumps(value, indent=2, sort_keys=True), with no trailing newline (PEFT writes none). */
export function pythonJsonDumps(value: PythonJson): string {
  return dump(value, '');
}
