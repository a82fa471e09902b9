/**
 * A small dataset that ships with the app, so the studio works offline from the first click: short
 * sentences in the {"text": ...} JSON Lines form, written for Whetstone (no licence questions).
 */
const sentences = [
  'A whetstone sharpens a blade with slow, even strokes.',
  'Hold the blade at a low angle and keep it steady.',
  'Wet the stone before you begin, and keep it wet.',
  'Start on the coarse side, then finish on the fine side.',
  'Ten strokes on one side, then ten on the other.',
  'A burr along the edge tells you the stone has done its work.',
  'Test the edge on a sheet of paper: it should slice, not tear.',
  'Clean the stone after use and let it dry in the air.',
  'Flatten the stone now and then, as it wears unevenly.',
  'A sharp knife is safer than a dull one.',
  'Small models learn quickly when the text repeats itself.',
  'Fine-tuning changes a model a little, in the direction of your data.',
  'LoRA trains two small matrices beside each weight it adapts.',
  'Full fine-tuning trains every weight of the model.',
  'Watch the validation loss: it tells you when to stop.',
  'The same settings for both runs make the comparison fair.',
  'A lower loss on the training set alone can mean memorising.',
  'Save the adapter, and try it against the base model.',
  'Steel on stone, stroke after stroke, until the edge is keen.',
  'The best edge comes from patience, not pressure.',
];

export const sampleDatasetName = 'whetstone-sample.jsonl';

export const sampleDatasetText = `${sentences.map((text) => JSON.stringify({ text })).join('\n')}\n`;
