/**
 * Which linear layers a PEFT method adapts, matched as PEFT matches `target_modules`: a name matches a
 * module whose path ends with it (".q_proj", ".attn.c_proj"); "all-linear" takes every linear layer of
 * the decoder (never the LM head). PEFT's defaults for LoRA are q_proj and v_proj (Llama, Qwen2) and
 * c_attn (GPT-2).
 */
import type { LinearSite } from './adaptation';

export type TargetModules = string[] | 'all-linear';

export function defaultLoraTargets(config: { readonly family: string }): string[] {
  return config.family === 'gpt2' ? ['c_attn'] : ['q_proj', 'v_proj'];
}

export function matchesTarget(site: LinearSite, targets: TargetModules): boolean {
  if (targets === 'all-linear') return true;
  return targets.some((target) => site.path === target || site.path.endsWith(`.${target}`));
}

export function targetedSites(sites: LinearSite[], targets: TargetModules): LinearSite[] {
  const chosen = sites.filter((site) => matchesTarget(site, targets));
  if (chosen.length === 0) {
    const names = [...new Set(sites.map((s) => s.module))].join(', ');
    throw new Error(
      `No linear layer matches target modules ${JSON.stringify(targets)}; this model has: ${names}.`,
    );
  }
  return chosen;
}
