import { describe, expect, it } from 'vitest';
import { PythonFloat, pythonFloatRepr, pythonJsonDumps } from './python-json';

describe("Python's json.dumps(indent=2, sort_keys=True)", () => {
  it('writes floats as repr(float) does (values printed by CPython 3.11)', () => {
    const cases: [number, string][] = [
      [0, '0.0'],
      [-0, '-0.0'],
      [0.05, '0.05'],
      [0.1, '0.1'],
      [1e-5, '1e-05'],
      [1e-4, '0.0001'],
      [1.5e-7, '1.5e-07'],
      [1e15, '1000000000000000.0'],
      [1e16, '1e+16'],
      [123.5, '123.5'],
      [-2.5, '-2.5'],
      [16 * Math.SQRT2, '22.627416997969522'],
      [5e-324, '5e-324'],
      [Number.MAX_VALUE, '1.7976931348623157e+308'],
    ];
    for (const [value, repr] of cases) expect(pythonFloatRepr(value)).toBe(repr);
    expect(() => pythonFloatRepr(Number.NaN)).toThrow(RangeError);
  });

  it('sorts keys, indents by two, escapes non-ASCII, and keeps empty containers inline', () => {
    const text = pythonJsonDumps({ b: [1, { z: [], a: {} }], a: 'é😀\x7f\x01"\\\n\t' });
    // The text CPython prints for the same value.
    expect(text).toBe(
      [
        '{',
        '  "a": "\\u00e9\\ud83d\\ude00\\u007f\\u0001\\"\\\\\\n\\t",',
        '  "b": [',
        '    1,',
        '    {',
        '      "a": {},',
        '      "z": []',
        '    }',
        '  ]',
        '}',
      ].join('\n'),
    );
  });

  it('writes integers bare, floats with their point, and refuses a bare non-integer', () => {
    expect(pythonJsonDumps([8, new PythonFloat(8), null, true, false])).toBe(
      '[\n  8,\n  8.0,\n  null,\n  true,\n  false\n]',
    );
    expect(() => pythonJsonDumps(0.5)).toThrow(/PythonFloat/);
  });
});
