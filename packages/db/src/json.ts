/**
 * JSON for PostgreSQL's json parser, which refuses what JavaScript strings may hold: NUL
 * (`\u0000`: text cannot store it) and unpaired surrogates (JSON.stringify escapes exactly
 * those). Both become U+FFFD. An escape counts only after an even run of backslashes, so a
 * literal backslash followed by `u0000` in captured output is left as it was. Captured
 * output, argv and paths reach every table, so every writer of json/jsonb uses this.
 */
export function postgresJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (!json.includes('\\u')) return json;
  return json.replace(/(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/gi, '$1\\ufffd');
}
