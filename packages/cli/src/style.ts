/**
 * Colours on stderr, only when it is a terminal and `NO_COLOR` is not set
 * (https://no-color.org). Applied to alf's own words, never to log data.
 */
export interface Style {
  error(text: string): string;
  warning(text: string): string;
  strong(text: string): string;
}

const PLAIN: Style = { error: (t) => t, warning: (t) => t, strong: (t) => t };
const ANSI: Style = {
  error: (t) => `\u001b[31m${t}\u001b[39m`,
  warning: (t) => `\u001b[33m${t}\u001b[39m`,
  strong: (t) => `\u001b[1m${t}\u001b[22m`,
};

export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Style {
  const noColor = env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '';
  return stream.isTTY === true && !noColor && env['TERM'] !== 'dumb' ? ANSI : PLAIN;
}
