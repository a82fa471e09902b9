/**
 * A small preference dataset that ships with the app, so DPO can be tried offline from the first click:
 * questions about sharpening, each with a helpful answer (chosen) and a careless one (rejected), in TRL's
 * {"prompt", "chosen", "rejected"} JSON Lines form, written for Whetstone (no licence questions). It goes
 * into the library as a file, so its schema is detected and the run setup offers DPO.
 */
const pairs: [prompt: string, chosen: string, rejected: string][] = [
  [
    'How do I start sharpening a knife?',
    'Wet the stone and begin on the coarse side.',
    'Just rub it on anything.',
  ],
  [
    'At what angle should I hold the blade?',
    'Hold it low and steady, at about fifteen degrees.',
    'Any angle works.',
  ],
  ['Should the stone be wet?', 'Yes: soak it first and keep it wet as you work.', 'No, dry is fine.'],
  [
    'Which side of the stone comes first?',
    'The coarse side first, then the fine side.',
    'The fine side only.',
  ],
  ['How do I know the edge is done?', 'Feel for a small burr along the whole edge.', 'When you get bored.'],
  ['How can I test the edge?', 'Slice a sheet of paper: it should cut, not tear.', 'Test it on your thumb.'],
  ['How many strokes on each side?', 'About ten on one side, then ten on the other.', 'All on one side.'],
  [
    'What should I do after sharpening?',
    'Clean the stone and let it dry in the air.',
    'Leave it wet in a box.',
  ],
  [
    'Why flatten the stone?',
    'It wears unevenly, and a flat stone gives a straight edge.',
    'There is no reason.',
  ],
  [
    'Is a sharp knife dangerous?',
    'A sharp knife is safer than a dull one: it does not slip.',
    'Sharp knives are worse.',
  ],
  ['Should I press hard?', 'No: light, even pressure gives the best edge.', 'Press as hard as you can.'],
  ['How often should I sharpen?', 'When the edge starts to tear paper instead of slicing it.', 'Every hour.'],
  [
    'Can I sharpen a serrated knife here?',
    'Only with a tapered rod; a flat stone flattens the teeth.',
    'Yes, same as any knife.',
  ],
  [
    'What grit should I finish on?',
    'A fine grit, such as 1000 or higher, for a polished edge.',
    'The coarsest one you have.',
  ],
  [
    'How do I hold the stone still?',
    'Set it on a damp towel or a holder so it cannot slide.',
    'Hold it in your other hand.',
  ],
  ['What is honing?', 'Honing straightens the edge between sharpenings.', 'Honing is the same as cutting.'],
];

export const samplePreferencesName = 'whetstone-preferences.jsonl';

export const samplePreferencesText = `${pairs
  .map(([prompt, chosen, rejected]) =>
    JSON.stringify({ prompt, chosen: ` ${chosen}`, rejected: ` ${rejected}` }),
  )
  .join('\n')}\n`;
