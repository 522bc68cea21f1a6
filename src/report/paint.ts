/**
 * Colours for human output on a terminal, as ANSI SGR sequences. Whether
 * they are on is the caller's decision (cli/io.ts colourOn: a terminal,
 * NO_COLOR, FORCE_COLOR); off, every colour is the text itself.
 */
export type Hue = 'red' | 'green' | 'yellow' | 'cyan' | 'bold' | 'dim';

export type Paint = (hue: Hue, text: string) => string;

const SGR: Record<Hue, [number, number]> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  bold: [1, 22],
  dim: [2, 22],
};

/** Text as it is: piped output, NO_COLOR. */
export const plain: Paint = (_hue, text) => text;

/** Text in colour (nothing is added to empty text). */
export const coloured: Paint = (hue, text) =>
  text === '' ? text : `\u001b[${SGR[hue][0]}m${text}\u001b[${SGR[hue][1]}m`;

export function paint(on: boolean): Paint {
  return on ? coloured : plain;
}

/** The hue of an app's state, wherever it is shown. */
export function stateHue(state: string): Hue {
  switch (state) {
    case 'in-sync':
      return 'green';
    case 'pending':
    case 'drift':
    case 'skipped':
      return 'yellow';
    default:
      return 'red';
  }
}
