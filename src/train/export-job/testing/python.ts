/**
 * Test helpers that ask a real Python 3 about generated files: does train.py compile
 * (`python3 -m py_compile`), what do its settings hold (every top-level UPPER_CASE assignment through
 * ast.literal_eval, back as JSON), and what do the YAML files hold (PyYAML when installed). Tests skip,
 * saying why, only when python3 itself is missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const python3Available = spawnSync('python3', ['--version']).status === 0;
export const noPythonReason = 'python3 is not installed on this machine; the generated-script checks need it';

export function runPython(
  args: string[],
  input?: string,
): { status: number; stdout: string; stderr: string } {
  const run = spawnSync('python3', args, { encoding: 'utf8', input, timeout: 60_000 });
  return { status: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

/** Writes files (path → text) under a fresh temporary folder and returns the folder. */
export function writeTemp(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'whetstone-job-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

export function pyCompile(path: string): { status: number; stderr: string } {
  return runPython(['-m', 'py_compile', path]);
}

const settingsReader = `
import ast, json, sys
tree = ast.parse(open(sys.argv[1], encoding="utf-8").read())
out = {}
for node in tree.body:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        name = node.targets[0].id
        if name.isupper():
            out[name] = ast.literal_eval(node.value)
print(json.dumps(out))
`;

/** Every top-level UPPER_CASE literal assignment of a Python file. */
export function pythonSettings(path: string): Record<string, unknown> {
  const run = runPython(['-c', settingsReader, path]);
  if (run.status !== 0) throw new Error(`reading ${path} failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

const peftJsonMaker = `
import ast, json, sys
tree = ast.parse(open(sys.argv[1], encoding="utf-8").read())
values = {}
for node in tree.body:
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        values[node.targets[0].id] = node.value
kwargs = ast.literal_eval(values["PEFT_KWARGS"])
fields = json.loads(sys.stdin.read())
fields.update(kwargs)
print(json.dumps(fields, indent=2, sort_keys=True), end="")
`;

/**
 * adapter_config.json as PEFT would write it for train.py's PEFT_KWARGS: the given defaults and
 * bookkeeping (JSON, floats keeping ".0"), updated with the kwargs, dumped as PEFT dumps.
 */
export function peftJsonFromScript(path: string, defaultsJson: string): string {
  const run = runPython(['-c', peftJsonMaker, path], defaultsJson);
  if (run.status !== 0) throw new Error(`building the PEFT config from ${path} failed: ${run.stderr}`);
  return run.stdout;
}

export const pyyamlAvailable = python3Available && runPython(['-c', 'import yaml']).status === 0;

/** A YAML file parsed by PyYAML, as JSON. */
export function pythonYaml(path: string): unknown {
  const run = runPython([
    '-c',
    'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))',
    path,
  ]);
  if (run.status !== 0) throw new Error(`PyYAML could not read ${path}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

const scriptInspector = `
import ast, json, py_compile, sys

def settings(tree):
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name.isupper():
                out[name] = ast.literal_eval(node.value)
    return out

def peft_json(tree, defaults_json):
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = node.value
    fields = json.loads(defaults_json)
    fields.update(ast.literal_eval(values["PEFT_KWARGS"]))
    return json.dumps(fields, indent=2, sort_keys=True)

report = []
for job in json.loads(sys.stdin.read()):
    entry = {"compileStatus": 0, "compileError": ""}
    try:
        py_compile.compile(job["path"], doraise=True)
    except py_compile.PyCompileError as error:
        entry["compileStatus"] = 1
        entry["compileError"] = str(error)
        report.append(entry)
        continue
    tree = ast.parse(open(job["path"], encoding="utf-8").read())
    entry["settings"] = settings(tree)
    entry["peftJsons"] = [peft_json(tree, d) for d in job["peftDefaults"]]
    report.append(entry)
print(json.dumps(report))
`;

export interface ScriptReport {
  /** 0 when py_compile accepts the file. */
  compileStatus: number;
  compileError: string;
  /** As pythonSettings. */
  settings: Record<string, unknown>;
  /** As peftJsonFromScript, once per entry of the job's peftDefaults. */
  peftJsons: string[];
}

/**
 * pyCompile, pythonSettings and peftJsonFromScript for many scripts in one Python process: the same
 * checks (py_compile, ast.literal_eval, PEFT's dump), without a Python start-up per check.
 */
export function inspectScripts(jobs: { path: string; peftDefaults: string[] }[]): ScriptReport[] {
  const run = runPython(['-c', scriptInspector], JSON.stringify(jobs));
  if (run.status !== 0) throw new Error(`inspecting ${jobs.length} scripts failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as ScriptReport[];
}
