/**
 * The sample preference pairs the studio ships: read as the library reads a dropped file, they are a
 * preference dataset of 16 pairs with explicit prompts, every chosen response differing from its
 * rejected one, so the run setup offers DPO on them.
 */
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../../train/data/load-dataset';
import { isPreferenceDataset, preferenceExamplesOf } from '../../../train/data/preference-data';
import { samplePreferencesName, samplePreferencesText } from './sample-preferences';

describe('the sample preference pairs', () => {
  it('read as 16 preference pairs with their prompts', async () => {
    const dataset = await loadDataset(samplePreferencesName, new TextEncoder().encode(samplePreferencesText));
    expect(isPreferenceDataset(dataset)).toBe(true);
    expect(dataset.badRows).toEqual([]);
    const pairs = preferenceExamplesOf(dataset);
    expect(pairs).toHaveLength(16);
    for (const p of pairs) {
      expect(typeof p.prompt === 'string' && p.prompt.endsWith('?')).toBe(true);
      expect(p.chosen).not.toEqual(p.rejected);
    }
  });
});
