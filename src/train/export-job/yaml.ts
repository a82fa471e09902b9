/**
 * A small YAML writer for the accelerate config files: nested maps of strings, numbers and booleans,
 * written as block mappings, two spaces per level. Strings are always quoted (JSON-style, which YAML
 * reads as the same string), so 'NO', 'no' or '1.0' stay strings and are never read as booleans or
 * numbers. That is all accelerate's config files need.
 */

export type YamlValue = string | number | boolean | { readonly [key: string]: YamlValue };

function scalar(value: string | number | boolean): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new RangeError(`${value} has no YAML form here.`);
  return String(value);
}

function lines(map: { readonly [key: string]: YamlValue }, indent: string): string[] {
  return Object.entries(map).flatMap(([key, value]) =>
    typeof value === 'object'
      ? [`${indent}${key}:`, ...lines(value, `${indent}  `)]
      : [`${indent}${key}: ${scalar(value)}`],
  );
}

/** The YAML text of a map, with an optional leading comment block and a final newline. */
export function yamlDocument(map: { readonly [key: string]: YamlValue }, comment = ''): string {
  const head = comment
    ? `${comment
        .split('\n')
        .map((l) => `# ${l}`.trimEnd())
        .join('\n')}\n`
    : '';
  return `${head}${lines(map, '').join('\n')}\n`;
}
