// Command lines printed for a user to paste into a POSIX shell: each word quoted only when it
// needs it, so the line reads as one would type it.
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellWord(word: string): string {
  if (word !== '' && SAFE.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export function shellLine(command: string, args: readonly string[]): string {
  return [command, ...args].map(shellWord).join(' ');
}
