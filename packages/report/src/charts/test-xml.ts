/**
 * Test-only: a strict XML 1.0 well-formedness parser for the charts (no DTD,
 * no CDATA, no processing instructions besides the declaration). Throws on
 * anything a conforming parser would reject that alf could produce: unclosed
 * or mismatched tags, bad names, unquoted or duplicate attributes, `<` in an
 * attribute value, unknown entity references, illegal characters, text or a
 * second element outside the root. Returns the element tree.
 */

export interface XmlElement {
  readonly name: string;
  readonly attrs: ReadonlyMap<string, string>;
  readonly children: readonly XmlElement[];
  /** Decoded character data directly inside this element, concatenated. */
  readonly text: string;
}

const NAME = /[A-Za-z_:][A-Za-z0-9_:.-]*/y;
const ILLEGAL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(s: string, where: number): string {
  return s.replace(/&([^;&\s]*);|&/g, (m, ref: string | undefined) => {
    if (ref === undefined) throw new Error(`bare & at ${where}`);
    if (ref in ENTITIES) return ENTITIES[ref]!;
    const num = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref);
    if (num === null) throw new Error(`unknown entity ${m} at ${where}`);
    const cp = num[1] !== undefined ? parseInt(num[1], 16) : parseInt(num[2]!, 10);
    const ch = String.fromCodePoint(cp);
    if (cp > 0x10ffff || ILLEGAL.test(ch) || (cp >= 0xd800 && cp <= 0xdfff)) throw new Error(`illegal character reference ${m}`);
    return ch;
  });
}

/** Parses `xml` strictly; returns the root element. */
export function parseXmlStrict(xml: string): XmlElement {
  if (ILLEGAL.test(xml)) throw new Error('illegal character in document');
  let i = 0;
  const decl = /^<\?xml version="1\.0"(?: encoding="UTF-8")?\?>/.exec(xml);
  if (decl) i = decl[0].length;
  const stack: { name: string; attrs: Map<string, string>; children: XmlElement[]; text: string }[] = [];
  let root: XmlElement | null = null;
  const name = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(xml);
    if (m === null) throw new Error(`expected a name at ${i}: ${JSON.stringify(xml.slice(i, i + 20))}`);
    i += m[0].length;
    return m[0];
  };
  const ws = (): number => {
    const s = i;
    while (i < xml.length && ' \t\r\n'.includes(xml[i]!)) i++;
    return i - s;
  };
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt < 0 ? xml.length : lt;
    const raw = xml.slice(i, textEnd);
    if (raw.includes(']]>')) throw new Error(`]]> in text at ${i}`);
    if (stack.length === 0) {
      if (raw.trim() !== '') throw new Error(`text outside the root element at ${i}`);
    } else stack[stack.length - 1]!.text += decode(raw, i);
    i = textEnd;
    if (i >= xml.length) break;
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end < 0 || xml.slice(i + 4, end).includes('--')) throw new Error(`bad comment at ${i}`);
      i = end + 3;
      continue;
    }
    if (xml.startsWith('<!', i) || xml.startsWith('<?', i)) throw new Error(`DTD, CDATA or processing instruction at ${i}`);
    if (xml.startsWith('</', i)) {
      i += 2;
      const n = name();
      ws();
      if (xml[i] !== '>') throw new Error(`expected > at ${i}`);
      i++;
      const top = stack.pop();
      if (top === undefined || top.name !== n) throw new Error(`</${n}> does not close ${top?.name ?? 'anything'}`);
      const el: XmlElement = top;
      if (stack.length === 0) root = el;
      else stack[stack.length - 1]!.children.push(el);
      continue;
    }
    i++;
    if (root !== null) throw new Error('a second root element');
    const n = name();
    const attrs = new Map<string, string>();
    for (;;) {
      const sp = ws();
      if (xml.startsWith('/>', i) || xml[i] === '>') break;
      if (sp === 0) throw new Error(`expected whitespace before an attribute at ${i}`);
      const an = name();
      ws();
      if (xml[i] !== '=') throw new Error(`expected = after ${an} at ${i}`);
      i++;
      ws();
      const q = xml[i];
      if (q !== '"' && q !== "'") throw new Error(`unquoted value of ${an} at ${i}`);
      const end = xml.indexOf(q, i + 1);
      if (end < 0) throw new Error(`unterminated value of ${an}`);
      const v = xml.slice(i + 1, end);
      if (v.includes('<')) throw new Error(`< in the value of ${an}`);
      if (attrs.has(an)) throw new Error(`duplicate attribute ${an}`);
      attrs.set(an, decode(v, i));
      i = end + 1;
    }
    const selfClosing = xml.startsWith('/>', i);
    i += selfClosing ? 2 : 1;
    const el = { name: n, attrs, children: [] as XmlElement[], text: '' };
    if (selfClosing) {
      if (stack.length === 0) root = el;
      else stack[stack.length - 1]!.children.push(el);
    } else stack.push(el);
  }
  if (stack.length > 0) throw new Error(`<${stack[stack.length - 1]!.name}> is not closed`);
  if (root === null) throw new Error('no root element');
  return root;
}

/** Every element of the tree, depth first. */
export function allElements(el: XmlElement, out: XmlElement[] = []): XmlElement[] {
  out.push(el);
  for (const c of el.children) allElements(c, out);
  return out;
}
