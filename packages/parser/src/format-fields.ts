/**
 * Formats as data: a format is a list of literals and fields; each field says
 * which column it fills and how its text is read. nginx variables and Apache
 * `%` directives both map onto these field kinds.
 */
import {
  COL_FORWARDED_FOR, COL_METHOD, COL_PATH, COL_PROTOCOL, COL_QUERY, COL_REFERER, COL_USER, COL_USER_AGENT, COL_VHOST,
} from './batch-builder.ts';

export type FieldKind =
  | 'client' // ip column
  | 'user' // remote_user: may hold spaces, brackets, quotes
  | 'skip' // ident (%l): read, not stored
  | 'time_clf' // dd/Mon/yyyy:HH:MM:SS +hhmm
  | 'time_iso' // $time_iso8601
  | 'time_msec' // $msec, %{sec}t: epoch seconds with optional fraction
  | 'time_int' // %{msec}t, %{usec}t: integer epoch in `scale` ms per unit
  | 'time_frac' // %{msec_frac}t, %{usec_frac}t: added to ts
  | 'time_strftime' // %{format}t
  | 'request' // "GET /p?q HTTP/1.1"
  | 'method'
  | 'uri' // path + ?query
  | 'path'
  | 'query' // Apache %q: '' or '?...'
  | 'args' // nginx $args: query without '?', '' or '-' when none
  | 'protocol'
  | 'status'
  | 'bytes' // bytesSent
  | 'duration' // durationMs = value * scale
  | 'upstream_time' // upstreamMs = sum of a list * 1000
  | 'string' // a plain string column (`column`)
  | 'extra'; // named extra column

export interface FieldDef {
  readonly kind: FieldKind;
  /** The variable as written in the format (`$remote_addr`, `%h`). */
  readonly source: string;
  /** String column index for 'string'; extra name for 'extra'. */
  readonly column?: number;
  readonly extraName?: string;
  /** ms per unit for durations and integer epochs; time unit for fractions. */
  readonly scale?: number;
  /** strftime pattern for 'time_strftime'. */
  readonly pattern?: string;
  /** Value may be a list "a, b : c" (nginx upstream variables, XFF). */
  readonly list?: boolean;
}

export type FormatItem = { readonly lit: string } | { readonly field: FieldDef };

const str = (column: number, source: string): FieldDef => ({ kind: 'string', column, source });
const extra = (name: string, source: string, list = false): FieldDef => ({ kind: 'extra', extraName: name, source, list });

/** nginx variable (without `$`) → field. Unknown variables become extras. */
export function nginxField(name: string): FieldDef {
  const source = `$${name}`;
  switch (name) {
    case 'remote_addr': case 'realip_remote_addr': return { kind: 'client', source, list: true };
    case 'remote_user': return { kind: 'user', source };
    case 'time_local': return { kind: 'time_clf', source };
    case 'time_iso8601': return { kind: 'time_iso', source };
    case 'msec': return { kind: 'time_msec', source };
    case 'request': return { kind: 'request', source };
    case 'request_method': return { kind: 'method', source };
    case 'request_uri': return { kind: 'uri', source };
    case 'uri': case 'document_uri': return { kind: 'path', source };
    case 'args': case 'query_string': return { kind: 'args', source };
    case 'server_protocol': return { kind: 'protocol', source };
    case 'status': return { kind: 'status', source };
    case 'body_bytes_sent': return { kind: 'bytes', source };
    case 'http_referer': return str(COL_REFERER, source);
    case 'http_user_agent': return str(COL_USER_AGENT, source);
    case 'http_x_forwarded_for': return { kind: 'string', column: COL_FORWARDED_FOR, source, list: true };
    case 'host': case 'server_name': case 'http_host': return str(COL_VHOST, source);
    case 'request_time': return { kind: 'duration', source, scale: 1000 };
    case 'upstream_response_time': return { kind: 'upstream_time', source, list: true };
    default: return extra(name, source, name.startsWith('upstream_') || name === 'proxy_add_x_forwarded_for');
  }
}

/** Lowercased header name → nginx-style variable suffix (`User-Agent` → `user_agent`). */
function headerName(h: string): string {
  return h.toLowerCase().replace(/-/g, '_');
}

/**
 * Apache directive → field, or a literal (`%t` carries its own brackets).
 * `arg` is the `{...}` argument, `letter` the directive letter (with `>`/`<` stripped).
 */
export function apacheItems(letter: string, arg: string | undefined, source: string): FormatItem[] | null {
  const f = (d: FieldDef): FormatItem[] => [{ field: d }];
  switch (letter) {
    case 'h': return f({ kind: 'client', source, list: true });
    case 'a': return arg === 'c' || arg === undefined ? f({ kind: 'client', source, list: true }) : null;
    case 'l': return f({ kind: 'skip', source });
    case 'u': return f({ kind: 'user', source });
    case 't': {
      if (arg === undefined) return [{ lit: '[' }, { field: { kind: 'time_clf', source } }, { lit: ']' }];
      let a = arg;
      if (a.startsWith('begin:') || a.startsWith('end:')) a = a.slice(a.indexOf(':') + 1);
      if (a === 'sec') return f({ kind: 'time_msec', source });
      if (a === 'msec') return f({ kind: 'time_int', source, scale: 1 });
      if (a === 'usec') return f({ kind: 'time_int', source, scale: 0.001 });
      if (a === 'msec_frac') return f({ kind: 'time_frac', source, scale: 1 });
      if (a === 'usec_frac') return f({ kind: 'time_frac', source, scale: 0.001 });
      return f({ kind: 'time_strftime', source, pattern: a });
    }
    case 'r': return f({ kind: 'request', source });
    case 'm': return f({ kind: 'method', source });
    case 'U': return f({ kind: 'path', source });
    case 'q': return f({ kind: 'query', source });
    case 'H': return f({ kind: 'protocol', source });
    case 's': return f({ kind: 'status', source });
    case 'b': case 'B': return f({ kind: 'bytes', source });
    case 'O': return f(extra('bytes_out', source));
    case 'I': return f(extra('bytes_in', source));
    case 'S': return f(extra('bytes_transferred', source));
    case 'D': return f({ kind: 'duration', source, scale: 0.001 });
    case 'T': {
      const unit = arg ?? 's';
      const scale = unit === 'ms' ? 1 : unit === 'us' ? 0.001 : unit === 's' ? 1000 : NaN;
      return Number.isNaN(scale) ? null : f({ kind: 'duration', source, scale });
    }
    case 'v': case 'V': return f(str(COL_VHOST, source));
    case 'i': {
      if (arg === undefined) return null;
      const h = headerName(arg);
      if (h === 'referer') return f(str(COL_REFERER, source));
      if (h === 'user_agent') return f(str(COL_USER_AGENT, source));
      if (h === 'x_forwarded_for') return f({ kind: 'string', column: COL_FORWARDED_FOR, source, list: true });
      if (h === 'host') return f(str(COL_VHOST, source));
      return f(extra(`http_${h}`, source));
    }
    case 'o': return arg === undefined ? null : f(extra(`sent_http_${headerName(arg)}`, source));
    case 'e': case 'n': case 'x': case 'C': case 'c': case '^ti': case '^to':
      return f(extra(arg === undefined ? letter : headerName(arg), source));
    case 'p': return f(extra(arg === undefined ? 'port' : `port_${arg}`, source));
    case 'P': return f(extra('pid', source));
    case 'f': return f(extra('filename', source));
    case 'k': return f(extra('keepalive', source));
    case 'L': return f(extra('log_id', source));
    case 'X': return f(extra('connection_status', source));
    case 'R': return f(extra('handler', source));
    case 'A': return f(extra('local_ip', source));
    default: return null;
  }
}

/** String columns a field list can fill (for the builder's commit). */
export function usedColumns(fields: readonly FieldDef[], extraIndex: (name: string) => number): number[] {
  const s = new Set<number>();
  for (const f of fields) {
    switch (f.kind) {
      case 'request': s.add(COL_METHOD); s.add(COL_PATH); s.add(COL_QUERY); s.add(COL_PROTOCOL); break;
      case 'method': s.add(COL_METHOD); break;
      case 'uri': s.add(COL_PATH); s.add(COL_QUERY); break;
      case 'path': s.add(COL_PATH); break;
      case 'query': case 'args': s.add(COL_QUERY); break;
      case 'protocol': s.add(COL_PROTOCOL); break;
      case 'user': s.add(COL_USER); break;
      case 'client': s.add(COL_VHOST); s.add(COL_FORWARDED_FOR); break; // vhost prefix, XFF list as client
      case 'string': s.add(f.column as number); break;
      case 'extra': s.add(extraIndex(f.extraName as string)); break;
      default: break;
    }
  }
  return [...s].sort((a, b) => a - b);
}
