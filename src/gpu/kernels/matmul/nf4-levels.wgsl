// 4-bit NormalFloat (QLoRA's NF4) as numeric/nf4.ts stores it: blocks of 64 values, each 8 u32 words of
// codes (8 to a word, lowest bits first) then the block's absmax as f32 bits. A value is its code's
// level × absmax. Prepended by every kernel that reads an NF4 tensor.

// A constant table: the index is a 4-bit code.
const NF4_LEVELS = array<f32, 16>(
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
  -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
  0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
);

// The word that holds the code of flat element i.
fn nf4_code_word(i: u32) -> u32 {
  return (i >> 6u) * 9u + ((i & 63u) >> 3u);
}

// The word that holds the scale of flat element i's block.
fn nf4_scale_word(i: u32) -> u32 {
  return (i >> 6u) * 9u + 8u;
}

// Element i's value, from the word holding its code and its block's scale word.
fn nf4_value(code_word: u32, i: u32, scale_word: u32) -> f32 {
  return NF4_LEVELS[(code_word >> ((i & 7u) * 4u)) & 15u] * bitcast<f32>(scale_word);
}
