// train.py tokenizes conversations itself (TRL's assistant_only_loss needs template markers most models
// lack), so its labels must be Whetstone's. Here the generated conversation_features runs in a real
// Python, with jinja2 rendering and a one-token-per-character tokenizer, against tokenizeExamples in
// TypeScript with the same template and tokenizer: ids and labels must agree exactly, for a model's
// template and for Whetstone's fallback, with and without prompt masking.
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../data/load-dataset';
import { type DatasetTokenizer, tokenizeExamples } from '../data/tokenize-examples';
import { exportJob, parseRunConfig } from './index';
import { noPythonReason, python3Available, runPython, writeTemp } from './testing/python';
import { jsonlBytes, tinyDecoder } from './testing/run-fixtures';

const BOS = 256;
const EOS = 257;

const chatMl =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

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
    encode: (text, o) => [
      ...((o?.addSpecialTokens ?? true) ? [BOS] : []),
      ...Array.from(text, (c) => c.charCodeAt(0)),
    ],
    decode: (ids) => String.fromCharCode(...ids),
  };
}

const pythonSide = `
import ast, json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
tree = ast.parse(open(sys.argv[1], encoding="utf-8").read())
ns, fallback = {}, None
for node in tree.body:
    if isinstance(node, ast.FunctionDef) and node.name == "conversation_features":
        exec(compile(ast.Module(body=[node], type_ignores=[]), "train.py", "exec"), ns)
    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "FALLBACK_CHAT_TEMPLATE":
        fallback = ast.literal_eval(node.value)
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)  # as transformers compiles templates

class CharTokenizer:
    eos_token, bos_token, eos_token_id = "</s>", "<s>", ${EOS}
    def __init__(self, template):
        self.chat_template = template
    def apply_chat_template(self, conversation, tokenize=False, add_generation_prompt=False):
        return env.from_string(self.chat_template).render(
            messages=conversation, add_generation_prompt=add_generation_prompt,
            eos_token=self.eos_token, bos_token=self.bos_token)
    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": ([${BOS}] if add_special_tokens else []) + [ord(c) for c in text]}

job = json.load(sys.stdin)
use_fallback = job["template"] is None  # train.py: a model without a template gets the fallback
tokenizer = CharTokenizer(fallback if use_fallback else job["template"])
rows = [json.loads(line) for line in job["jsonl"].splitlines() if line]
print(json.dumps([ns["conversation_features"](r, tokenizer, use_fallback, job["mask_prompt"], False) for r in rows]))
`;

const conversations = [
  {
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'Two plus two?' },
      { role: 'assistant', content: 'Four.' },
    ],
  },
  {
    messages: [
      { role: 'user', content: 'Name a colour.' },
      { role: 'assistant', content: 'Blue' },
    ],
  },
];
/** Conversational prompt-completion: the first assistant turn is in the prompt and must not train. */
const promptCompletion = [
  {
    prompt: [
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
      { role: 'user', content: 'c' },
    ],
    completion: [{ role: 'assistant', content: 'd' }],
  },
];

describe.skipIf(!python3Available)(
  `conversation labels in train.py (skipped only if ${noPythonReason})`,
  () => {
    const cases = [
      { name: 'conversations', rows: conversations },
      { name: 'conversational prompt-completion', rows: promptCompletion },
    ];
    for (const { name, rows } of cases) {
      for (const template of [chatMl, null]) {
        for (const maskPrompt of [true, false]) {
          it(`${name}, ${template ? "the model's template" : 'the fallback template'}, masking ${maskPrompt ? 'on' : 'off'}`, async () => {
            const bytes = jsonlBytes(rows);
            const files = await exportJob({
              run: parseRunConfig({
                model: { id: 'm' },
                method: { method: 'lora' },
                data: { file: 'c.jsonl', maskPrompt },
              }),
              model: tinyDecoder('llama'),
              dataset: { name: 'c.jsonl', bytes },
            });
            const dir = writeTemp(files);
            const run = runPython(
              ['-c', pythonSide, join(dir, 'train.py')],
              JSON.stringify({ template, mask_prompt: maskPrompt, jsonl: files['dataset/train.jsonl'] }),
            );
            expect(run.stderr).toBe('');
            const python = JSON.parse(run.stdout) as { input_ids: number[]; labels: number[] }[];

            const loaded = await loadDataset('c.jsonl', bytes);
            const whetstone = tokenizeExamples(loaded.examples, charTokenizer(template), {
              maxLength: 100_000,
              maskPrompt,
              eosTokenId: EOS,
            }).examples.map((e) => ({ input_ids: e.ids, labels: e.labels }));
            expect(python).toEqual(whetstone);
            // Masking really masks something, and leaves the assistant's words trained.
            const trained = whetstone.map((e) => e.labels.filter((l) => l !== -100).length);
            if (maskPrompt)
              expect(trained.every((n, i) => n > 0 && n < (whetstone[i]?.labels.length ?? 0))).toBe(true);
          });
        }
      }
    }
  },
);
