/**
 * Payload factories with faker, imported per locale (`@faker-js/faker/locale/en`) so bundles stay small.
 * Seed per VU (`seedFactories(__VU)`) for repeatable data.
 */
import { faker } from '@faker-js/faker/locale/en';
import type { TaskMode } from './task-modes.ts';

export function seedFactories(seed: number): void {
  faker.seed(seed);
}

const SIMPLE_ASKS = ['what is the status of', 'summarise', 'give me the owner of', 'list the open tasks for'] as const;
const COMPLEX_ASKS = [
  'plan a complex migration of',
  'draft a complex incident review for',
  'compare in depth the complex options for',
] as const;

/** Text of a Slack mention: `complex` requests make the reference platform run a collaborative task. */
export function slackRequestText(complexity: 'simple' | 'complex'): string {
  const ask = faker.helpers.arrayElement(complexity === 'complex' ? COMPLEX_ASKS : SIMPLE_ASKS);
  return `${ask} ${faker.company.buzzNoun()} ${faker.hacker.noun()}`;
}

export interface TaskRequest {
  readonly mode: TaskMode;
  readonly input: { readonly goal: string; readonly requester: string; readonly priority: number };
  readonly iterations?: number;
  readonly delayMs?: number;
  readonly agents?: number;
}

export function taskRequest(mode: TaskMode, o: { iterations?: number; delayMs?: number; agents?: number } = {}): TaskRequest {
  const input = {
    goal: `${faker.hacker.verb()} the ${faker.hacker.adjective()} ${faker.hacker.noun()}`,
    requester: faker.internet.email(),
    priority: faker.number.int({ min: 1, max: 5 }),
  };
  if (mode === 'continuous') return { mode, input, iterations: o.iterations ?? 3 };
  if (mode === 'scheduled') return { mode, input, delayMs: o.delayMs ?? 500 };
  if (mode === 'collaborative') return { mode, input, ...(o.agents !== undefined ? { agents: o.agents } : {}) };
  return { mode, input };
}

export interface KnowledgeNodeInput {
  readonly kind: string;
  readonly name: string;
  readonly properties: Readonly<Record<string, string | number>>;
}

export const NODE_KINDS = ['concept', 'person', 'document', 'service'] as const;

export function knowledgeNode(): KnowledgeNodeInput {
  return {
    kind: faker.helpers.arrayElement(NODE_KINDS),
    name: faker.commerce.productName(),
    properties: { team: faker.commerce.department(), score: faker.number.int({ min: 0, max: 100 }), source: 'agentload' },
  };
}

export function chatPrompt(): { role: 'user'; content: string } {
  return { role: 'user', content: `${faker.hacker.phrase()} Explain in ${faker.number.int({ min: 2, max: 6 })} steps.` };
}

export function busPayload(run: string, seq: number): { run: string; seq: number; sentAt: number; body: string } {
  return { run, seq, sentAt: Date.now(), body: faker.lorem.words(5) };
}
