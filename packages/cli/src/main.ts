export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('alf: not built yet\n');
  return 2;
}
