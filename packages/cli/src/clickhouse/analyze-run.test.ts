/** `alf analyze --engine clickhouse` usage checks (the engine itself is tested on a real cluster and on chdb). */
import { describe, expect, test } from 'vitest';
import { runAlf } from '../test-cli.ts';
import { redactUrl } from './analyze-run.ts';

describe('--engine usage', () => {
  test('--url without --engine clickhouse is a usage error, not silently a local run', async () => {
    const r = await runAlf(['analyze', '--url', 'http://127.0.0.1:1', '--table', 'logs', 'x.log']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/go with `--engine clickhouse`/);
  });
  test('--engine clickhouse refuses files and options it cannot apply', async () => {
    const files = await runAlf(['analyze', '--engine', 'clickhouse', '--url', 'http://127.0.0.1:1', '--table', 'logs', 'x.log']);
    expect(files.code).toBe(2);
    expect(files.stderr).toMatch(/reads the table, not files/);
    const vhost = await runAlf(['analyze', '--engine', 'clickhouse', '--url', 'http://127.0.0.1:1', '--table', 'logs', '--vhost', 'a.example']);
    expect(vhost.code).toBe(2);
    expect(vhost.stderr).toMatch(/`--vhost` is not supported with `--engine clickhouse`/);
    const unreachable = await runAlf(['analyze', '--engine', 'clickhouse', '--url', 'http://127.0.0.1:1', '--table', 'logs']);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(/ClickHouse at http:\/\/127\.0\.0\.1:1 is unreachable/);
  });
});

test('a password in --url is not written to the manifest', () => {
  expect(redactUrl('http://alf:s3cret@ch1:8123')).toBe('http://alf:***@ch1:8123');
  expect(redactUrl('--url=https://u:p@h/')).toBe('--url=https://u:***@h/');
  expect(redactUrl('http://ch1:8123')).toBe('http://ch1:8123');
  expect(redactUrl('access.log')).toBe('access.log');
});
