/**
 * Scores @alf/core detection on the labelled corpus (real background traffic
 * from testdata/real with injected events: floods from hosting ASNs, a wide
 * residential botnet with random query strings, low-and-slow, a short spike, a
 * flash crowd, a real crawler and a spoofed one, two overlapping attacks, a
 * lone scanner; plus quiet real days and the real secrepo 2018 burst).
 *
 *   node --conditions=alf-source --import tsx scripts/score-detection.ts [--json]
 *
 * Exit status 1 when the quality bar of issue 4 is not met.
 */
import { runCorpus, scoreCorpus } from '../packages/core/src/eval-corpus.ts';

const runs = runCorpus();
const score = scoreCorpus(runs);
if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify(score, null, 2)}\n`);
} else {
  const rows = score.events.map((e) => [
    e.scenario, e.event, e.found ? 'found' : 'MISSED', `${e.expected}${e.verdict === e.expected ? '' : ` (got ${e.verdict ?? '-'})`}`,
    e.startErrorS === null ? '' : `${e.startErrorS >= 0 ? '+' : ''}${e.startErrorS}s/${e.endErrorS! >= 0 ? '+' : ''}${e.endErrorS}s`,
    `${e.truePositives}/${e.labelled} of ${e.attributed}`,
  ]);
  const head = ['scenario', 'event', 'found', 'verdict', 'start/end error', 'attackers hit/labelled of listed'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  process.stdout.write(`${line(head)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}\n\n`);
  for (const f of score.falseBursts) process.stdout.write(`false burst: ${f.scenario} #${f.burstId} at ${new Date(f.startMs).toISOString()} (${f.verdict})\n`);
  process.stdout.write(
    `events found ${score.events.filter((e) => e.found).length}/${score.events.length}; verdicts right ${(score.verdictAccuracy * 100).toFixed(0)}%; ` +
      `false bursts ${score.falseBursts.length}; attacker precision ${score.precision.toFixed(3)}, recall ${score.recall.toFixed(3)}\n`,
  );
}
const ok = score.events.every((e) => e.found && e.verdict === e.expected) && score.falseBursts.length === 0 && score.precision > 0.9 && score.recall > 0.9;
process.exitCode = ok ? 0 : 1;
