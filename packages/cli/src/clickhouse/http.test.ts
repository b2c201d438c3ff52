/** The streamed JSONCompact reader: complete bodies are read row by row; broken or short ones fail. The client's stale keep-alive sockets. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { JsonCompactLines, createClickHouseClient } from './http.ts';

/** A body as ClickHouse (18.16 and current) writes JSONCompact. */
function body(rows: readonly string[], declared: number = rows.length): string {
  return `{\n\t"meta":\n\t[\n\t\t{\n\t\t\t"name": "client",\n\t\t\t"type": "String"\n\t\t},\n\t\t{\n\t\t\t"name": "n",\n\t\t\t"type": "UInt64"\n\t\t}\n\t],\n\n`
    + `\t"data":\n\t[\n${rows.map((r) => `\t\t${r}`).join(',\n')}\n\t],\n\n\t"rows": ${declared},\n\n\t"statistics":\n\t{\n\t\t"elapsed": 0.001,\n\t\t"rows_read": 3\n\t}\n}\n`;
}

function read(text: string, columns: readonly string[] = ['client', 'n']): { rows: string[]; n: number } {
  const rows: string[] = [];
  const r = new JsonCompactLines('http://ch', columns, (l) => rows.push(l.trim()));
  for (const l of text.split('\n')) r.line(l);
  return { rows, n: r.end() };
}

describe('JsonCompactLines', () => {
  test('hands over each data row and checks the count', () => {
    expect(read(body(['["1.2.3.4", 5]', '["a\\"b", 1]']))).toEqual({ rows: ['["1.2.3.4", 5],', '["a\\"b", 1]'], n: 2 });
    expect(read(body([]))).toEqual({ rows: [], n: 0 });
  });
  test('a body cut short, or with fewer rows than it says, is an error', () => {
    const full = body(['["1.2.3.4", 5]', '["5.6.7.8", 1]']);
    expect(() => read(full.slice(0, full.indexOf('"rows"')))).toThrow(/incomplete result \(2 rows of an unknown number\)/);
    expect(() => read(body(['["1.2.3.4", 5]'], 2))).toThrow(/incomplete result \(1 rows of 2\)/);
  });
  test('an exception appended part-way through a 200 response is reported', () => {
    const broken = `${body(['["1.2.3.4", 5]']).split('\n').slice(0, 16).join('\n')}\nCode: 279, e.displayText() = DB::Exception: All connection tries failed\n`;
    expect(() => read(broken)).toThrow(/failed part-way: Code: 279, e\.displayText\(\) = DB::Exception: All connection tries failed/);
  });
  test('other columns than the query\'s are an error', () => {
    expect(() => read(body([]), ['client', 'inside_requests'])).toThrow(/returned columns client, n; expected client, inside_requests/);
  });
});

describe('the HTTP client', () => {
  test('a request that meets a kept-alive socket the server has dropped is sent again on a new one, once', async () => {
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      // Every second request on a socket: the socket is dropped without a response (a keep-alive timeout race).
      const onSocket = ((req.socket as { served?: number }).served ?? 0) + 1;
      (req.socket as { served?: number }).served = onSocket;
      req.resume();
      req.on('end', () => {
        if (onSocket >= 2) {
          req.socket.destroy();
          return;
        }
        res.end('ok\n');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = createClickHouseClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      await c.exec('SELECT 1');
      await c.exec('SELECT 2');
      await c.exec('SELECT 3');
      // Requests 2 and 4 met a dropped socket and were sent again: 3 answered of 5 received.
      expect(requests).toBe(5);
    } finally {
      c.close();
      await new Promise((r) => server.close(r));
    }
  });
});
