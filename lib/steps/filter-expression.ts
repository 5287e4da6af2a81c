/**
 * The `filter` step's expression language, parsed and evaluated here (no `eval`):
 *
 *   status != 'refunded' and amount > 10
 *   country in ('DE', 'FR') or not exists(deleted_at)
 *   address.city = "Berlin" and (plan = 'team' or seats >= 5)
 *
 * Comparisons `= == != < <= > >=` between a field (dotted paths reach nested ones) and a literal or
 * another field; `in (…)` and `not in (…)` with a list of literals; `exists(field)` or `field exists`;
 * `and`, `or`, `not` and parentheses. Literals: numbers, 'single' or "double" quoted strings, true,
 * false, null. Ordering compares numbers with numbers and strings with strings; anything else is false.
 */
import type { JsonObject } from '../protocol/messages.ts';
import { getPath, splitPath } from './field-paths.ts';

type Value = string | number | boolean | null;
type Node =
  | { readonly kind: 'literal'; readonly value: Value }
  | { readonly kind: 'field'; readonly path: readonly string[] }
  | { readonly kind: 'compare'; readonly op: string; readonly left: Node; readonly right: Node }
  | { readonly kind: 'in'; readonly negated: boolean; readonly value: Node; readonly list: readonly Value[] }
  | { readonly kind: 'exists'; readonly path: readonly string[] }
  | { readonly kind: 'and' | 'or'; readonly left: Node; readonly right: Node }
  | { readonly kind: 'not'; readonly operand: Node };

export class FilterSyntaxError extends Error {
  override readonly name = 'FilterSyntaxError';
}

interface Token {
  readonly type: 'number' | 'string' | 'word' | 'op' | 'punct' | 'end';
  readonly text: string;
  readonly at: number;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'exists', 'true', 'false', 'null']);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < source.length) {
    const char = source[index] as string;
    if (/\s/.test(char)) {
      index += 1;
      continue;
    }
    const rest = source.slice(index);
    const number = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(rest);
    const word = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(rest);
    const op = /^(==|!=|<=|>=|=|<|>)/.exec(rest);
    if (char === "'" || char === '"') {
      let end = index + 1;
      let text = '';
      while (end < source.length && source[end] !== char) {
        // A backslash makes the next character part of the string: 'it\'s'.
        if (source[end] === '\\' && end + 1 < source.length) end += 1;
        text += source[end];
        end += 1;
      }
      if (end >= source.length)
        throw new FilterSyntaxError(`a string opened at character ${index + 1} is never closed`);
      tokens.push({ type: 'string', text, at: index });
      index = end + 1;
    } else if (number !== null && !(tokens.at(-1)?.type === 'word' || tokens.at(-1)?.type === 'number')) {
      tokens.push({ type: 'number', text: number[0], at: index });
      index += number[0].length;
    } else if (word !== null) {
      tokens.push({ type: 'word', text: word[0], at: index });
      index += word[0].length;
    } else if (op !== null) {
      tokens.push({ type: 'op', text: op[0], at: index });
      index += op[0].length;
    } else if ('(),[]'.includes(char)) {
      tokens.push({ type: 'punct', text: char, at: index });
      index += 1;
    } else {
      throw new FilterSyntaxError(`unexpected ${JSON.stringify(char)} at character ${index + 1}`);
    }
  }
  tokens.push({ type: 'end', text: '', at: source.length });
  return tokens;
}

class Parser {
  private position = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  parse(): Node {
    const node = this.or();
    const next = this.peek();
    if (next.type !== 'end') throw this.error(next, 'the end of the expression');
    return node;
  }

  private peek(): Token {
    return this.tokens[this.position] as Token;
  }

  private take(): Token {
    const token = this.peek();
    this.position += 1;
    return token;
  }

  private isWord(text: string): boolean {
    const token = this.peek();
    return token.type === 'word' && token.text.toLowerCase() === text;
  }

  private expect(text: string): void {
    const token = this.take();
    if (token.text.toLowerCase() !== text) throw this.error(token, JSON.stringify(text));
  }

  private error(token: Token, expected: string): FilterSyntaxError {
    const found = token.type === 'end' ? 'the end' : JSON.stringify(token.text);
    return new FilterSyntaxError(`expected ${expected} at character ${token.at + 1}, found ${found}`);
  }

  private or(): Node {
    let left = this.and();
    while (this.isWord('or')) {
      this.take();
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): Node {
    let left = this.not();
    while (this.isWord('and')) {
      this.take();
      left = { kind: 'and', left, right: this.not() };
    }
    return left;
  }

  private not(): Node {
    if (this.isWord('not')) {
      this.take();
      return { kind: 'not', operand: this.not() };
    }
    return this.comparison();
  }

  private comparison(): Node {
    const left = this.primary();
    const next = this.peek();
    if (next.type === 'op') {
      this.take();
      return { kind: 'compare', op: next.text === '==' ? '=' : next.text, left, right: this.primary() };
    }
    if (
      this.isWord('in') ||
      (this.isWord('not') && this.tokens[this.position + 1]?.text.toLowerCase() === 'in')
    ) {
      const negated = this.isWord('not');
      if (negated) this.take();
      this.take();
      return { kind: 'in', negated, value: left, list: this.list() };
    }
    if (this.isWord('exists')) {
      this.take();
      if (left.kind !== 'field') throw this.error(next, 'a field before exists');
      return { kind: 'exists', path: left.path };
    }
    return left;
  }

  private list(): Value[] {
    const open = this.take();
    if (open.text !== '(' && open.text !== '[') throw this.error(open, 'a list such as (1, 2) after in');
    const close = open.text === '(' ? ')' : ']';
    const values: Value[] = [];
    for (;;) {
      const item = this.primary();
      if (item.kind !== 'literal')
        throw this.error(this.tokens[this.position - 1] as Token, 'a literal in the list');
      values.push(item.value);
      const separator = this.take();
      if (separator.text === close) return values;
      if (separator.text !== ',') throw this.error(separator, `"," or "${close}"`);
    }
  }

  private primary(): Node {
    const token = this.take();
    if (token.type === 'number') return { kind: 'literal', value: Number(token.text) };
    if (token.type === 'string') return { kind: 'literal', value: token.text };
    if (token.text === '(') {
      const inner = this.or();
      this.expect(')');
      return inner;
    }
    if (token.type === 'word') {
      const lower = token.text.toLowerCase();
      if (lower === 'true' || lower === 'false') return { kind: 'literal', value: lower === 'true' };
      if (lower === 'null') return { kind: 'literal', value: null };
      if (lower === 'exists') {
        this.expect('(');
        const field = this.take();
        if (field.type !== 'word' || KEYWORDS.has(field.text.toLowerCase()))
          throw this.error(field, 'a field name');
        this.expect(')');
        return { kind: 'exists', path: splitPath(field.text) };
      }
      if (KEYWORDS.has(lower)) throw this.error(token, 'a field or a value');
      return { kind: 'field', path: splitPath(token.text) };
    }
    throw this.error(token, 'a field or a value');
  }
}

export interface CompiledFilter {
  readonly source: string;
  matches(record: JsonObject): boolean;
}

/** Parses `source` once; a mistake is a FilterSyntaxError naming the character. */
export function compileFilter(source: string): CompiledFilter {
  const tree = new Parser(tokenize(source)).parse();
  return { source, matches: (record) => truthy(evaluate(tree, record)) };
}

function evaluate(node: Node, record: JsonObject): unknown {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'field':
      return normalise(getPath(record, node.path));
    case 'exists': {
      const value = getPath(record, node.path);
      return value !== undefined && value !== null;
    }
    case 'not':
      return !truthy(evaluate(node.operand, record));
    case 'and':
      return truthy(evaluate(node.left, record)) && truthy(evaluate(node.right, record));
    case 'or':
      return truthy(evaluate(node.left, record)) || truthy(evaluate(node.right, record));
    case 'in': {
      const value = evaluate(node.value, record);
      const found = node.list.some((item) => equal(value, item));
      return node.negated ? !found : found;
    }
    case 'compare':
      return compare(node.op, evaluate(node.left, record), evaluate(node.right, record));
  }
}

/** Exact numbers (lossless-json) compare as numbers; a missing field is null. */
function normalise(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'object' && value !== null && 'isLosslessNumber' in value)
    return Number(String(value));
  return value;
}

function equal(a: unknown, b: unknown): boolean {
  return a === b;
}

function compare(op: string, a: unknown, b: unknown): boolean {
  if (op === '=') return equal(a, b);
  if (op === '!=') return !equal(a, b);
  const comparable =
    (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
  if (!comparable) return false;
  const x = a as number | string;
  const y = b as number | string;
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    default:
      return x >= y;
  }
}

function truthy(value: unknown): boolean {
  return value === true;
}
