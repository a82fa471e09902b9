/**
 * Named errors for adapter files. Each message names the file, field or tensor at fault and says what
 * Whetstone can read instead, so an adapter from the Hub that we cannot load fails before any GPU work.
 */

/** adapter_config.json is not valid JSON, or a field has the wrong type or an impossible value. */
export class AdapterConfigError extends Error {
  override readonly name = 'AdapterConfigError';
}

export const supportedPeftTypes = ['LORA', 'IA3', 'PROMPT_TUNING', 'PREFIX_TUNING'] as const;

export class UnsupportedPeftTypeError extends Error {
  override readonly name = 'UnsupportedPeftTypeError';
  constructor(readonly peftType: string) {
    super(
      `adapter_config.json has peft_type ${JSON.stringify(peftType)}, which Whetstone cannot read. ` +
        `Supported: ${supportedPeftTypes.join(', ')} (and Whetstone's own bottleneck adapters).`,
    );
  }
}

/** A PEFT option that changes the saved tensors or the forward pass in a way Whetstone does not follow. */
export class UnsupportedAdapterFeatureError extends Error {
  override readonly name = 'UnsupportedAdapterFeatureError';
  constructor(
    readonly field: string,
    value: unknown,
    why: string,
  ) {
    super(`adapter_config.json sets ${field} = ${JSON.stringify(value)}: ${why}`);
  }
}

/** The adapter config does not fit the base model (layer count, widths, target modules). */
export class AdapterModelMismatchError extends Error {
  override readonly name = 'AdapterModelMismatchError';
}

export interface KeyProblem {
  key: string;
  expected?: number[];
  found?: number[];
}

/**
 * The tensors in a weights file are not exactly the ones the loader expects: PEFT's
 * PeftModel.from_pretrained would report these as missing or unexpected keys, or a size mismatch.
 */
export class AdapterKeysError extends Error {
  override readonly name = 'AdapterKeysError';
  constructor(
    readonly file: string,
    readonly missing: KeyProblem[],
    readonly unexpected: KeyProblem[],
    readonly wrongShape: KeyProblem[],
  ) {
    const shape = (s?: number[]) => `[${(s ?? []).join(', ')}]`;
    const list = (items: string[]) =>
      items.slice(0, 5).join('; ') + (items.length > 5 ? `; and ${items.length - 5} more` : '');
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${list(missing.map((p) => `${p.key} ${shape(p.expected)}`))}`);
    if (unexpected.length)
      parts.push(`unexpected ${list(unexpected.map((p) => `${p.key} ${shape(p.found)}`))}`);
    if (wrongShape.length) {
      parts.push(
        `wrong shape ${list(wrongShape.map((p) => `${p.key} is ${shape(p.found)}, expected ${shape(p.expected)}`))}`,
      );
    }
    super(`${file} does not match its config: ${parts.join('. ')}.`);
  }
}

/** A file is missing from the adapter folder, or a tensor's data does not fill its shape. */
export class AdapterFilesError extends Error {
  override readonly name = 'AdapterFilesError';
}
