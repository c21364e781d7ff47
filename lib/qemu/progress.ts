/** qemu-img -p prints "    (12.50/100%)\r" repeatedly; this gives the latest fraction in a chunk, or null. */
export function parseProgress(chunk: string): number | null {
  const matches = [...chunk.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)];
  const last = matches[matches.length - 1];
  return last ? Math.min(1, Number(last[1]) / 100) : null;
}
