/**
 * The edge-case files `npm run verify` loads: each a tiny export of two columns (id, v) with one data row that probes
 * one question about what the warehouse does with ControlShift's CSV. `v` is VARCHAR(8) so that "longer than its
 * column" needs only 10 bytes.
 */

export interface EdgeCase {
  /** Also the scratch table's name suffix: lower-case, digits, underscores. */
  readonly name: string;
  /** The question, as the report prints it. */
  readonly question: string;
  readonly bytes: Buffer;
  /** What the mirror's semantics want (ControlShift's files come from PostgreSQL's CSV output). */
  readonly wanted: string;
}

/** The scratch table's columns, in the warehouse's types. */
export const VERIFY_COLUMNS = [
  { name: "id", type: "INTEGER" },
  { name: "v", type: "VARCHAR(8)" },
] as const;

const csv = (text: string): Buffer => Buffer.from(text, "utf8");

export const EDGE_CASES: readonly EdgeCase[] = [
  { name: "quoted_empty", question: 'a quoted empty string ""', bytes: csv('id,v\n1,""\n'), wanted: '"" (empty string)' },
  { name: "unquoted_empty", question: "an unquoted empty field", bytes: csv("id,v\n2,\n"), wanted: "NULL" },
  { name: "backslash_n", question: "the text \\N", bytes: csv("id,v\n3,\\N\n"), wanted: '"\\N" (text)' },
  { name: "crlf", question: "CRLF line endings", bytes: csv("id,v\r\n4,crlf\r\n"), wanted: '"crlf"' },
  { name: "bom", question: "a UTF-8 byte order mark", bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), csv("id,v\n5,bom\n")]), wanted: '"bom"' },
  { name: "four_byte_utf8", question: "a 4-byte UTF-8 character", bytes: csv("id,v\n6,\u{1F600}\n"), wanted: '"\u{1F600}" (4 bytes)' },
  { name: "too_long", question: "a value longer than its column (10 bytes into VARCHAR(8))", bytes: csv("id,v\n7,abcdefghij\n"), wanted: "the load fails, or the cut is counted" },
];
