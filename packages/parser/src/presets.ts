/**
 * Preset formats as data: each is a format string (nginx or Apache syntax) plus
 * representative lines it must parse. Order matters for auto-detection: on a
 * tie the earlier, more specific preset wins.
 */
export interface Preset {
  readonly id: string;
  readonly description: string;
  readonly flavor: 'nginx' | 'apache' | 'json';
  readonly source: string;
  readonly sampleLines: readonly string[];
  /** Tried by auto-detection. */
  readonly detect: boolean;
}

const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

export const PRESETS: readonly Preset[] = [
  {
    id: 'nginx_ingress',
    description: 'ingress-nginx default: combined + request_length, request_time, upstream name, addr, length, time, status, req_id',
    flavor: 'nginx',
    source: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" ' +
      '$request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr ' +
      '$upstream_response_length $upstream_response_time $upstream_status $req_id',
    sampleLines: [
      `192.0.2.10 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1" 200 59 "-" "curl/7.54.0" 89 0.001 [default-web-8080] [] 10.1.0.5:8080 59 0.000 200 529a007902362a5f51385a5fa7049884`,
      `2001:db8::7 - - [07/Feb/2020:11:49:15 +0000] "GET /a?b=1 HTTP/2.0" 502 150 "-" "${UA}" 91 0.105 [default-web-8080] [] 10.1.0.6:8080, 10.1.0.7:8080 61, 100 0.100, 0.004 502, 200 68fa971ce4dfce685fdc01c877bfa645`,
    ],
    detect: true,
  },
  {
    id: 'nginx_timing',
    description: 'nginx combined + $request_time $upstream_response_time (seconds; upstream lists "0.001, 0.002 : 0.003" are summed)',
    flavor: 'nginx',
    source: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time',
    sampleLines: [
      `198.51.100.4 - - [12/Mar/2024:08:01:02 +0100] "GET /api/items?page=2 HTTP/1.1" 200 5123 "https://example.org/" "${UA}" 0.012 0.010`,
      `198.51.100.5 - alice [12/Mar/2024:08:01:03 +0100] "POST /login HTTP/1.1" 302 0 "-" "curl/8.5.0" 0.250 0.001, 0.002 : 0.003`,
      `198.51.100.6 - - [12/Mar/2024:08:01:04 +0100] "GET /static/app.js HTTP/1.1" 304 0 "-" "${UA}" 0.000 -`,
    ],
    detect: true,
  },
  {
    id: 'nginx_upstream_time',
    description: 'nginx docs "upstream_time" example: main + rt= uct= uht= urt=',
    flavor: 'nginx',
    source: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" ' +
      '"$http_x_forwarded_for" rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time"',
    sampleLines: [
      `203.0.113.9 - - [12/Mar/2024:08:01:02 +0000] "GET / HTTP/1.1" 200 612 "-" "${UA}" "-" rt=0.004 uct="0.001" uht="0.003" urt="0.003"`,
      `203.0.113.9 - - [12/Mar/2024:08:01:03 +0000] "GET /x HTTP/1.1" 502 157 "-" "${UA}" "198.51.100.1" rt=1.004 uct="0.001, -" uht="-, -" urt="1.001, 0.002"`,
    ],
    detect: true,
  },
  {
    id: 'apache_combined_us',
    description: 'Apache combined + %D (request duration in microseconds)',
    flavor: 'apache',
    source: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D',
    sampleLines: [
      `192.0.2.77 - - [10/Oct/2023:13:55:36 -0700] "GET /index.html HTTP/1.1" 200 2326 "http://www.example.com/start.html" "${UA}" 5134`,
      `192.0.2.78 - bob [10/Oct/2023:13:55:37 -0700] "GET /missing HTTP/1.1" 404 - "-" "Wget/1.21" 312`,
    ],
    detect: true,
  },
  {
    id: 'apache_combined_s',
    description: 'Apache combined + %T (request duration in whole seconds)',
    flavor: 'apache',
    source: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %T',
    sampleLines: [
      `192.0.2.77 - - [10/Oct/2023:13:55:36 -0700] "GET /report.pdf HTTP/1.1" 200 982326 "-" "${UA}" 3`,
    ],
    detect: false,
  },
  {
    id: 'nginx_main',
    description: 'nginx default "main": combined + "$http_x_forwarded_for"',
    flavor: 'nginx',
    source: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for"',
    sampleLines: [
      `10.0.0.8 - - [20/Jan/2015:19:53:28 +0100] "GET /phpmyadmin/ HTTP/1.1" 404 47 "-" "-" "-"`,
      `10.0.0.8 - - [20/Jan/2015:19:53:29 +0100] "GET /?q=%22x%22 HTTP/1.1" 200 612 "-" "${UA}" "203.0.113.50, 198.51.100.2"`,
      `10.0.0.8 - - [20/Jan/2015:19:53:30 +0100] "GET /a\\x22b HTTP/1.1" 400 157 "-" "x\\x22y" "-"`,
    ],
    detect: true,
  },
  {
    id: 'vhost_combined',
    description: 'Apache vhost_combined: %v[:%p] before combined (the port, when logged, stays in vhost)',
    flavor: 'apache',
    source: '%v %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
    sampleLines: [
      `www.example.com:443 192.0.2.1 - - [04/Jul/2019:09:20:46 +0200] "GET / HTTP/1.1" 200 32953 "-" "${UA}"`,
      `www.example.com 2001:db8::1 - - [04/Jul/2019:09:20:47 +0200] "GET /feed HTTP/1.1" 304 0 "https://www.example.com/" "${UA}"`,
    ],
    detect: true,
  },
  {
    id: 'combined',
    description: 'NCSA/Apache combined: %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"',
    flavor: 'apache',
    source: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"',
    sampleLines: [
      `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`,
      `piweba4y.prodigy.com - - [01/Aug/1995:00:00:10 -0400] "GET /images/launchmedium.gif HTTP/1.0" 200 11853 "-" "-"`,
      `::ffff:192.0.2.5 - - [01/Aug/1995:00:00:11 -0400] "GET /x\\"y HTTP/1.0" 404 - "-" "${UA}"`,
    ],
    detect: true,
  },
  {
    id: 'nginx_combined',
    description: 'nginx built-in "combined" (same fields as Apache combined)',
    flavor: 'nginx',
    source: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"',
    sampleLines: [
      `203.0.113.7 - - [25/Oct/2016:14:49:33 +0200] "GET / HTTP/1.1" 200 612 "-" "${UA}"`,
    ],
    detect: false,
  },
  {
    id: 'common',
    description: 'NCSA/Apache common log format: %h %l %u %t "%r" %>s %b',
    flavor: 'apache',
    source: '%h %l %u %t "%r" %>s %b',
    sampleLines: [
      `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326`,
      `unicomp6.unicomp.net - - [01/Jul/1995:00:00:06 -0400] "GET /shuttle/countdown/ HTTP/1.0" 200 3985`,
      `192.0.2.3 - - [01/Jul/1995:00:00:07 -0400] "GET /ksc.html" 304 -`,
    ],
    detect: true,
  },
  {
    id: 'json',
    description: 'JSON lines (nginx escape=json style); keys named like nginx variables or common aliases (ip, time, method, uri, status, bytes, referer, user_agent, …)',
    flavor: 'json',
    source: '',
    sampleLines: [
      '{"time_iso8601":"2024-03-12T08:01:02+00:00","remote_addr":"192.0.2.9","request":"GET /a?b=c HTTP/1.1","status":200,"body_bytes_sent":512,"http_referer":"","http_user_agent":"curl/8.5.0","request_time":"0.004"}',
      '{"time":"2024-03-12T08:01:03.250Z","ip":"2001:db8::2","method":"POST","uri":"/login","status":"401","bytes":"0","user_agent":"python-requests/2.31"}',
    ],
    detect: true,
  },
];

export const PRESET_ALIASES: Readonly<Record<string, string>> = {
  apache: 'combined', ncsa: 'combined', clf: 'common', ncsa_common: 'common', main: 'nginx_main', nginx: 'nginx_combined',
  jsonl: 'json', ndjson: 'json', ingress: 'nginx_ingress', vhost: 'vhost_combined',
};
