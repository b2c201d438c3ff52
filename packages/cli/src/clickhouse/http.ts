/**
 * A small client for ClickHouse's HTTP interface (Node's http/https with
 * keep-alive; works with 18.16 and current servers). Queries are sent with
 * `wait_end_of_query=1` so an error is an HTTP error status, and read as
 * JSONCompact whose row count is checked: an exception appended to a 200
 * response part-way through (`Code: NNN. DB::Exception …`) breaks the JSON or
 * the count and is reported, never read as a short result.
 * `skip_unavailable_shards` is never set: a missing shard is an error.
 */
import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { AlfError } from '@alf/parser';
import { terminalSafe } from '../terminal-text.ts';

export interface ClickHouseResult {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

export interface ClickHouseClient {
  readonly url: string;
  /** A SELECT; its result as JSONCompact rows. */
  query(sql: string, settings?: Readonly<Record<string, string>>): Promise<ClickHouseResult>;
  /**
   * A SELECT whose result may be large: its JSONCompact body is handed over line by line as
   * it arrives (nothing is held but the current chunk). `onLine` may throw to stop the query.
   * Callers check the structure and the row count (`JsonCompactLines`).
   */
  queryLines(sql: string, onLine: (line: string) => void, settings?: Readonly<Record<string, string>>): Promise<void>;
  /** A statement without result (DDL). */
  exec(sql: string): Promise<void>;
  /** An INSERT with its data in the body. */
  insert(sql: string, body: Uint8Array, settings?: Readonly<Record<string, string>>): Promise<void>;
  /** The raw body of a query, without the checks (tests use it to see what a broken response looks like). */
  raw(sql: string, settings?: Readonly<Record<string, string>>): Promise<{ status: number; body: string }>;
  close(): void;
}

/** An error from the server (status and message) or from the connection (`status` 0). */
export class ClickHouseError extends AlfError {
  readonly status: number;
  constructor(message: string, status: number, options?: ErrorOptions) {
    super('ALF_INPUT_UNREADABLE', message, { reason: 'clickhouse', status }, options);
    this.status = status;
  }
}

/** A request that failed on a reused keep-alive socket before any response (sent again once). */
class StaleSocket extends ClickHouseError {
  constructor(message: string, cause: Error) {
    super(message, 0, { cause });
  }
}

const EXCEPTION = /Code: \d+[.,]\s*(?:e\.displayText\(\) = )?DB::Exception/;

/** The first line of a server error, printable. */
function serverMessage(body: string): string {
  const text = body.trim().split('\n').find((l) => EXCEPTION.test(l)) ?? body.trim().split('\n')[0] ?? '';
  return terminalSafe(text, 600);
}

/**
 * A JSONCompact result, checked: it must parse and hold as many rows as it says.
 * An exception the server appended part-way through a 200 response fails here.
 */
export function parseJsonCompact(body: string, shown: string): ClickHouseResult {
  let parsed: { meta?: { name: string }[]; data?: unknown[][]; rows?: number };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    const at = body.search(EXCEPTION);
    throw new ClickHouseError(`ClickHouse at ${shown} sent a broken result (HTTP 200, ${body.length} bytes)${at >= 0 ? `: the query failed part-way: ${serverMessage(body.slice(at))}` : ''}`, 200);
  }
  if (!Array.isArray(parsed.data) || !Array.isArray(parsed.meta) || parsed.rows !== parsed.data.length) {
    throw new ClickHouseError(`ClickHouse at ${shown} sent an incomplete result (${parsed.data?.length ?? 0} rows of ${String(parsed.rows)})`, 200);
  }
  return { columns: parsed.meta.map((m) => m.name), rows: parsed.data };
}

/**
 * A JSONCompact body read line by line (ClickHouse writes each data row on its own line,
 * 18.16 and current versions alike): checks the column names, hands each data row's line
 * to `onRow`, and at the end (`end()`) checks that the body was complete and held as many
 * rows as it says. An exception the server appended part-way through a 200 response
 * breaks the structure or the count and is reported, never read as a short result.
 */
export class JsonCompactLines {
  private state: 'head' | 'open' | 'data' | 'tail' | 'closed' = 'head';
  private readonly names: string[] = [];
  private rows = 0;
  private declared = -1;
  private readonly shown: string;
  private readonly expected: readonly string[];
  private readonly onRow: (line: string) => void;

  constructor(shown: string, expected: readonly string[], onRow: (line: string) => void) {
    this.shown = shown;
    this.expected = expected;
    this.onRow = onRow;
  }

  private broken(line: string, what: string): ClickHouseError {
    const at = line.search(EXCEPTION);
    return new ClickHouseError(at >= 0
      ? `ClickHouse at ${this.shown}: the query failed part-way: ${serverMessage(line.slice(at))}`
      : `ClickHouse at ${this.shown} sent a broken result (${what}: ${terminalSafe(line, 120)})`, 200);
  }

  line(line: string): void {
    const t = line.trim();
    if (EXCEPTION.test(line)) throw this.broken(line, 'exception');
    switch (this.state) {
      case 'head': {
        const m = /^"name": (".*"),?$/.exec(t);
        if (m) this.names.push(JSON.parse(m[1]!) as string);
        else if (t === '"data":') {
          if (this.names.length !== this.expected.length || this.names.some((n, i) => n !== this.expected[i])) {
            throw new ClickHouseError(`ClickHouse at ${this.shown} returned columns ${this.names.join(', ')}; expected ${this.expected.join(', ')}`, 200);
          }
          this.state = 'open';
        }
        return;
      }
      case 'open':
        if (t !== '[') throw this.broken(line, 'no data');
        this.state = 'data';
        return;
      case 'data':
        if (t === ']' || t === '],') {
          this.state = 'tail';
          return;
        }
        if (t === '') return; // an empty result: `[`, an empty line, `]`
        if (!t.startsWith('[')) throw this.broken(line, `row ${this.rows + 1}`);
        this.rows++;
        this.onRow(line);
        return;
      case 'tail': {
        const m = /^"rows": (\d+),?$/.exec(t);
        if (m) this.declared = Number(m[1]);
        else if (line === '}') this.state = 'closed';
        return;
      }
      case 'closed':
        if (t !== '') throw this.broken(line, 'after the end');
    }
  }

  /** At the end of the body: the number of rows, checked. */
  end(): number {
    if (this.state !== 'closed' || this.declared !== this.rows) {
      throw new ClickHouseError(`ClickHouse at ${this.shown} sent an incomplete result (${this.rows} rows of ${this.declared < 0 ? 'an unknown number' : this.declared})`, 200);
    }
    return this.rows;
  }
}

export function createClickHouseClient(url: string): ClickHouseClient {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new AlfError('ALF_USAGE', `--url must be the HTTP interface of a ClickHouse server, e.g. http://localhost:8123; got \`${terminalSafe(url, 200)}\``);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new AlfError('ALF_USAGE', `--url must start with http:// or https://; got \`${terminalSafe(url, 200)}\``);
  }
  const lib = base.protocol === 'https:' ? https : http;
  const agent = new lib.Agent({ keepAlive: true, maxSockets: 4 });
  const user = decodeURIComponent(base.username);
  const password = decodeURIComponent(base.password);
  const shown = `${base.protocol}//${base.host}${base.pathname === '/' ? '' : base.pathname}`;

  /**
   * POSTs a request. With `onLine`, a 200 response is decoded and split into lines as it
   * arrives (the body is not kept); any other status, or no `onLine`, returns the whole body.
   */
  /**
   * A request that failed before any response on a kept-alive socket the server had just
   * closed (its keep-alive timeout) never reached it: it is sent once more on a new socket.
   */
  async function send(params: Record<string, string>, body: Uint8Array | string, onLine?: (line: string) => void): Promise<{ status: number; body: string }> {
    try {
      return await sendOnce(params, body, onLine);
    } catch (e) {
      if (!(e instanceof StaleSocket)) throw e;
      return sendOnce(params, body, onLine, false);
    }
  }

  function sendOnce(params: Record<string, string>, body: Uint8Array | string, onLine?: (line: string) => void, mayRetry = true): Promise<{ status: number; body: string }> {
    const u = new URL(base.href);
    u.username = '';
    u.password = '';
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    const headers: Record<string, string | number> = { 'Content-Length': Buffer.byteLength(body) };
    if (user !== '') headers['X-ClickHouse-User'] = user;
    if (password !== '') headers['X-ClickHouse-Key'] = password;
    return new Promise((resolveP, reject) => {
      let responded = false;
      const req = lib.request(u, { method: 'POST', agent, headers }, (res) => {
        responded = true;
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        const streaming = onLine !== undefined && status === 200;
        const decoder = new StringDecoder('utf8');
        let carry = '';
        let failed = false;
        const lines = (text: string): void => {
          let from = 0;
          for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
            onLine!(carry === '' ? text.slice(from, nl) : carry + text.slice(from, nl));
            carry = '';
            from = nl + 1;
          }
          carry += text.slice(from);
        };
        const fail = (e: unknown): void => {
          failed = true;
          req.destroy();
          reject(e);
        };
        res.on('data', (c: Buffer) => {
          if (failed) return;
          if (!streaming) {
            chunks.push(c);
            return;
          }
          try {
            lines(decoder.write(c));
          } catch (e) {
            fail(e);
          }
        });
        res.on('end', () => {
          if (failed) return;
          if (!streaming) {
            resolveP({ status, body: Buffer.concat(chunks).toString('utf8') });
            return;
          }
          try {
            lines(decoder.end());
            if (carry !== '') onLine!(carry);
            resolveP({ status, body: '' });
          } catch (e) {
            fail(e);
          }
        });
        res.on('error', (e) => {
          if (!failed) reject(new ClickHouseError(`ClickHouse at ${shown}: the response broke off (${e.message})`, 0, { cause: e }));
        });
        res.on('aborted', () => {
          if (!failed) reject(new ClickHouseError(`ClickHouse at ${shown}: the response broke off`, 0));
        });
      });
      // After `fail` destroyed the request, this reject is a no-op (the promise is settled).
      req.on('error', (e) => {
        const code = (e as NodeJS.ErrnoException).code;
        const message = `ClickHouse at ${shown} is unreachable (${code ?? e.message})`;
        reject(mayRetry && !responded && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE') ? new StaleSocket(message, e) : new ClickHouseError(message, 0, { cause: e }));
      });
      req.end(body);
    });
  }

  const failed = (status: number, body: string, what: string): ClickHouseError =>
    new ClickHouseError(`ClickHouse at ${shown} failed ${what} (HTTP ${status}): ${serverMessage(body)}`, status);

  return {
    url: shown,
    async query(sql, settings = {}) {
      const res = await send({ wait_end_of_query: '1', output_format_json_quote_64bit_integers: '0', ...settings }, `${sql} FORMAT JSONCompact`);
      if (res.status !== 200) throw failed(res.status, res.body, 'a query');
      return parseJsonCompact(res.body, shown);
    },
    async queryLines(sql, onLine, settings = {}) {
      const res = await send({ wait_end_of_query: '1', output_format_json_quote_64bit_integers: '0', ...settings }, `${sql} FORMAT JSONCompact`, onLine);
      if (res.status !== 200) throw failed(res.status, res.body, 'a query');
    },
    async exec(sql) {
      const res = await send({}, sql);
      if (res.status !== 200) throw failed(res.status, res.body, 'a statement');
      if (EXCEPTION.test(res.body)) throw failed(res.status, res.body, 'a statement');
    },
    async insert(sql, body, settings = {}) {
      const u = new URLSearchParams({ query: sql, ...settings });
      const params = Object.fromEntries(u);
      const res = await send(params, body);
      if (res.status !== 200) throw failed(res.status, res.body, 'an insert');
      if (EXCEPTION.test(res.body)) throw failed(res.status, res.body, 'an insert');
    },
    raw: (sql, settings = {}) => send(settings, sql),
    close: () => agent.destroy(),
  };
}
