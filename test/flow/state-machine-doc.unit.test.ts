/**
 * docs/state-machine.md draws the transaction state machine; this keeps the drawing equal to the data
 * (`TRANSITIONS` in core/transactions/status.ts): every allowed transition drawn, nothing else drawn.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { TERMINAL_STATUSES, TRANSACTION_STATUSES, TRANSITIONS } from '../../core/transactions/status.js';

const doc = readFileSync(new URL('../../docs/state-machine.md', import.meta.url), 'utf8');

/** `A --> B` edges of the first mermaid block, labels dropped; `[*]` is start/end. */
function diagramEdges(): Array<[string, string]> {
  const block = /```mermaid\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/state-machine.md has no mermaid block');
  expect(block.trimStart().startsWith('stateDiagram-v2')).to.equal(true);
  return block
    .split('\n')
    .map((line) => /^\s*(\[\*\]|\w+)\s*-->\s*(\[\*\]|\w+)\s*(?::.*)?$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => [match[1]!, match[2]!]);
}

/** The diagram lines `TRANSITIONS` implies (printed on failure, to paste into the doc). */
function expectedLines(): string[] {
  return [
    '[*] --> CREATED',
    ...TRANSACTION_STATUSES.flatMap((from) => TRANSITIONS[from].map((to) => `${from} --> ${to}`)),
    ...[...TERMINAL_STATUSES].map((status) => `${status} --> [*]`),
  ];
}

describe('docs/state-machine.md', () => {
  it('draws exactly the transitions of TRANSITIONS, starting at CREATED and ending in the terminal statuses', () => {
    const drawn = diagramEdges().map(([from, to]) => `${from} --> ${to}`);
    expect(new Set(drawn).size, 'no edge drawn twice').to.equal(drawn.length);
    expect([...drawn].sort(), `expected edges:\n${expectedLines().join('\n')}`).to.deep.equal(
      expectedLines().sort(),
    );
  });

  it('describes every status', () => {
    for (const status of TRANSACTION_STATUSES) expect(doc, status).to.contain(`\`${status}\``);
  });
});
