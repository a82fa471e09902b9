// A DPO job's dataset must train what the browser trains: its rows, read back and tokenized as TRL 1.13's
// DPOTrainer does (tokenize_fn, with add_eos for strings, then the collator's keep_start cut and the filter
// of prompts that fill max_length, written out below in a real Python with jinja2 and a one-token-per-
// character tokenizer; the same jobs ran under TRL itself on CPU), give exactly the pairs the browser
// trains and validates on (preparePreferenceData with the same tokenizer): standard pairs, implicit
// prompts, truncated and dropped pairs, conversations under a model's template and under the fallback,
// for which train.py's own template lines (run as they are) add the tokenizer's BOS as the browser does.
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../data/load-dataset';
import { preparePreferenceData } from '../data/preference-data';
import type { DatasetTokenizer } from '../data/tokenize-examples';
import { exportJob, parseRunConfig } from './index';
import { noPythonReason, python3Available, runPython, writeTemp } from './testing/python';
import { jsonlBytes, tinyDecoder } from './testing/run-fixtures';

const BOS = 256;
const EOS = 257;

const chatMl =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Characters as ids; "<s>" and "</s>" in the text are BOS and EOS, as tokenizers split special tokens out. */
const charIds = (text: string): number[] =>
  text
    .split(/(<\/s>|<s>)/)
    .flatMap((part) =>
      part === '<s>' ? [BOS] : part === '</s>' ? [EOS] : Array.from(part, (c) => c.charCodeAt(0)),
    );

function charTokenizer(template: string | null): DatasetTokenizer {
  return {
    hasChatTemplate: template !== null,
    applyChatTemplate: (messages, o) =>
      new Template(template ?? '').render({
        messages,
        add_generation_prompt: o?.addGenerationPrompt ?? false,
        eos_token: '</s>',
        bos_token: '<s>',
      }),
    eosToken: '</s>',
    bosToken: '<s>',
    encode: (text, o) => [...((o?.addSpecialTokens ?? true) ? [BOS] : []), ...charIds(text)],
    decode: (ids) =>
      ids.map((id) => (id === BOS ? '<s>' : id === EOS ? '</s>' : String.fromCharCode(id))).join(''),
  };
}

const trlSide = `
import ast, json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
tree = ast.parse(open(sys.argv[1], encoding="utf-8").read())
settings = {}
for node in tree.body:
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id.isupper():
        settings[node.targets[0].id] = ast.literal_eval(node.value)
main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
template_lines = [n for n in ast.walk(main) if isinstance(n, ast.If) and ast.unparse(n.test) == "tokenizer.chat_template is None"]
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)  # as transformers compiles templates
BOS, EOS = ${BOS}, ${EOS}

class CharTokenizer:
    bos_token, eos_token = "<s>", "</s>"
    def __init__(self, template):
        self.chat_template = template
    def ids(self, text):
        out, i = [], 0
        while i < len(text):
            for token, id in (("</s>", EOS), ("<s>", BOS)):
                if text.startswith(token, i):
                    out.append(id); i += len(token); break
            else:
                out.append(ord(text[i])); i += 1
        return out
    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": ([BOS] if add_special_tokens else []) + self.ids(text)}
    def decode(self, ids):
        return "".join("<s>" if i == BOS else "</s>" if i == EOS else chr(i) for i in ids)
    def apply_chat_template(self, messages, add_generation_prompt=False):  # tokenize=True: no special tokens added
        return self.ids(env.from_string(self.chat_template).render(
            messages=messages, add_generation_prompt=add_generation_prompt,
            bos_token=self.bos_token, eos_token=self.eos_token))

job = json.load(sys.stdin)
tokenizer = CharTokenizer(job["template"])
for node in template_lines:  # train.py's own lines, as they are
    exec(compile(ast.Module(body=[node], type_ignores=[]), "train.py", "exec"), {"tokenizer": tokenizer, **settings})
max_length = settings["DPO_KWARGS"]["max_length"]

def tokenize(row):
    if isinstance(row["prompt"], list):
        prompt = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True)
        sides = [tokenizer.apply_chat_template(row["prompt"] + row[k]) for k in ("chosen", "rejected")]
    else:
        eos = lambda text: text if text.endswith(tokenizer.eos_token) else text + tokenizer.eos_token
        prompt = tokenizer(row["prompt"])["input_ids"]
        sides = [tokenizer(row["prompt"] + eos(row[k]))["input_ids"] for k in ("chosen", "rejected")]
    if len(prompt) >= max_length:
        return None
    pair = {}
    for name, ids in zip(("chosen", "rejected"), sides):
        completion = ids[len(prompt):]
        kept = (prompt + completion)[:max_length]
        mask = ([0] * len(prompt) + [1] * len(completion))[:max_length]
        pair[name] = {"ids": kept, "labels": [t if m else -100 for t, m in zip(kept, mask)]}
    return pair

out = {}
for split, text in job["files"].items():
    pairs = [tokenize(json.loads(line)) for line in text.splitlines() if line.strip()]
    out[split] = [p for p in pairs if p is not None]
print(json.dumps(out))
`;

const say = (i: number) => ({ role: 'user', content: `Say ${i}.` });
const answer = (text: string) => ({ role: 'assistant', content: text });

const cases: { name: string; rows: unknown[]; template: string | null }[] = [
  {
    name: 'standard pairs, some cut and one whose prompt fills the length',
    rows: Array.from({ length: 10 }, (_, i) => ({
      prompt: i === 3 ? `A prompt far longer than twenty-four characters ${i}:` : `Q${i}:`,
      chosen: i % 2 ? ` yes ${i}` : ` a long, long chosen answer ${i}`,
      rejected: ` no ${i}`,
    })),
    template: chatMl,
  },
  {
    name: 'implicit prompts',
    rows: Array.from({ length: 8 }, (_, i) => ({ chosen: `Q${i}: good`, rejected: `Q${i}: bad ${i}` })),
    template: chatMl,
  },
  ...[chatMl, null].map((template) => ({
    name: `conversational pairs, ${template ? "the model's template" : 'the fallback template'}`,
    rows: Array.from({ length: 8 }, (_, i) => ({
      prompt: [say(i)],
      chosen: [answer(`${i}`)],
      rejected: [answer(`not ${i}`)],
    })),
    template,
  })),
  {
    name: 'conversational pairs with implicit prompts',
    rows: Array.from({ length: 8 }, (_, i) => ({
      chosen: [say(i), answer(`${i}`)],
      rejected: [say(i), answer(`${i + 1}`)],
    })),
    template: null,
  },
];

describe.skipIf(!python3Available)(
  `DPO job datasets tokenize as the browser's pairs (skipped only if ${noPythonReason})`,
  () => {
    for (const { name, rows, template } of cases) {
      it(name, async () => {
        const conversational = name.startsWith('conversational');
        const seqLen = conversational ? 64 : 24;
        const bytes = jsonlBytes(rows);
        const run = parseRunConfig({
          model: { id: 'm' },
          method: { method: 'lora' },
          training: { seqLen, seed: 11, preference: { beta: 0.1 } },
          data: { file: 'pairs.jsonl', validationFraction: 0.25 },
        });
        const files = await exportJob({
          run,
          model: tinyDecoder('llama'),
          dataset: { name: 'pairs.jsonl', bytes },
        });
        const python = runPython(
          ['-c', trlSide, join(writeTemp(files), 'train.py')],
          JSON.stringify({
            template,
            files: { train: files['dataset/train.jsonl'], validation: files['dataset/validation.jsonl'] },
          }),
        );
        expect(python.stderr).toBe('');
        const trl = JSON.parse(python.stdout) as Record<'train' | 'validation', unknown[]>;

        const browser = preparePreferenceData(
          await loadDataset('pairs.jsonl', bytes),
          charTokenizer(template),
          {
            seqLen,
            eosTokenId: EOS,
            validationFraction: 0.25,
            seed: 11,
          },
        );
        const sides = (pairs: typeof browser.train) =>
          pairs.map(({ chosen, rejected }) => ({
            chosen: { ids: chosen.ids, labels: chosen.labels },
            rejected: { ids: rejected.ids, labels: rejected.labels },
          }));
        expect(trl).toEqual({ train: sides(browser.train), validation: sides(browser.validation) });
        expect(browser.validation.length).toBeGreaterThan(0);
        expect(browser.template).toBe(conversational ? (template ? 'model' : 'fallback') : 'none');
        if (name.startsWith('standard')) {
          expect(browser.truncated).toBeGreaterThan(0);
          expect(browser.dropped).toBe(1);
        }
      });
    }
  },
);
