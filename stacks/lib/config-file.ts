/**
 * Loading YAML configuration files (environments, tenants) with strict schemas and errors a
 * platform engineer can act on: every problem names the file, the field path, what was expected
 * and what was found.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';

export interface ConfigProblem {
  readonly file: string;
  /** Dotted field path (`availabilityZones[2]`), or `(file)` for problems with the whole file. */
  readonly field: string;
  readonly expected: string;
  readonly found: string;
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}: ${p.field}: expected ${p.expected}, found ${p.found}`;
}

/** One or more problems in configuration files. Its message lists every problem, one per line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list ${truncate(JSON.stringify(value))}`;
  if (typeof value === 'object') return `a mapping ${truncate(JSON.stringify(value))}`;
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out || '(file)';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

type ZodIssue = z.core.$ZodIssue;

function expectedFor(issue: ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(' | ')}`;
    case 'too_small': {
      const min = String(issue.minimum);
      if (issue.origin === 'array') return `at least ${min} item${min === '1' ? '' : 's'}`;
      if (issue.origin === 'string') return `at least ${min} character${min === '1' ? '' : 's'}`;
      return `a number ${issue.inclusive ? '>=' : '>'} ${min}`;
    }
    case 'too_big': {
      const max = String(issue.maximum);
      if (issue.origin === 'array') return `at most ${max} items`;
      if (issue.origin === 'string') return `at most ${max} characters`;
      return `a number ${issue.inclusive ? '<=' : '<'} ${max}`;
    }
    default:
      // Custom, format and refinement messages in our schemas are written as the "expected" part.
      return issue.message;
  }
}

/** Turns zod issues into problems that carry the value actually found in the file. */
export function problemsFromZod(file: string, raw: unknown, issues: readonly ZodIssue[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({
          file,
          field: formatPath([...issue.path, key]),
          expected: `no field named "${key}" (unknown fields are rejected so typos surface; see the schema for the allowed fields)`,
          found: describeValue(valueAt(raw, [...issue.path, key])),
        });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      // A record key failed its own schema (say a Spark property name): name the key, not its value.
      const key = issue.path.at(-1);
      problems.push({
        file,
        field: formatPath(issue.path),
        expected: `a key that is ${issue.issues.map((inner) => expectedFor(inner)).join(' and ')}`,
        found: `key ${describeValue(key)}`,
      });
      continue;
    }
    problems.push({ file, field: formatPath(issue.path), expected: expectedFor(issue), found: describeValue(valueAt(raw, issue.path)) });
  }
  return problems;
}

/** Reads a YAML file into plain data, or throws a ConfigError naming the file and the line. */
export function readYamlFile(file: string, displayName = file): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([
      { file: displayName, field: '(file)', expected: 'a readable YAML file', found: (error as Error).message },
    ]);
  }
  // prettyErrors: the parser then fills in `linePos`, so messages can name the line.
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      document.errors.map((e) => ({
        file: displayName,
        field: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '(file)',
        expected: 'valid YAML',
        found: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
      })),
    );
  }
  const data: unknown = document.toJS();
  if (data === null || data === undefined) {
    throw new ConfigError([{ file: displayName, field: '(file)', expected: 'a YAML mapping of fields', found: 'an empty file' }]);
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError([{ file: displayName, field: '(file)', expected: 'a YAML mapping of fields', found: describeValue(data) }]);
  }
  return data;
}

/** Validates parsed data against a schema; throws ConfigError with every problem found. */
export function parseWithSchema<S extends z.ZodType>(schema: S, raw: unknown, displayName: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (!result.success) throw new ConfigError(problemsFromZod(displayName, raw, result.error.issues));
  return result.data;
}
