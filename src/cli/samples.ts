// Built-in sample sentences for the quick start when no data set is at hand.

export const SAMPLE_SENTENCES: readonly string[] = [
  'A man is playing a guitar on the stage.',
  'A person plays an acoustic guitar.',
  'The cat sits on the warm windowsill.',
  'A kitten is sleeping in the sun by the window.',
  'Stock markets fell sharply after the announcement.',
  'Shares dropped quickly once the news was released.',
  'She is cooking pasta in the kitchen.',
  'A woman prepares dinner at home.',
  'The train to the city leaves at nine in the morning.',
  'Heavy rain is expected over the weekend.',
  'Children are playing football in the park.',
  'Two dogs run across a green field.',
  'The new phone has a larger screen and a better camera.',
  'He reads a book about the history of science.',
  'The committee approved the budget for next year.',
  'Scientists discovered a new species of frog in the forest.',
];

/** Example queries for the quick start's search over SAMPLE_SENTENCES. */
export const SAMPLE_QUERIES: readonly string[] = [
  'someone making music',
  'what will the weather be like',
  'a pet resting in the sunshine',
];
