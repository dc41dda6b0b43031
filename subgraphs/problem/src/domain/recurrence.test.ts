import { describe, expect, it } from 'vitest';
import { findCluster, similarity, tokenize, type RecurrenceIncident } from './recurrence.js';

const DAY = 86_400_000;
const NOW = new Date('2026-03-10T09:00:00Z');

let nextId = 0;
function incident(overrides: Partial<RecurrenceIncident> & Pick<RecurrenceIncident, 'title'>): RecurrenceIncident {
  return {
    id: `inc-${++nextId}`,
    openedAt: NOW,
    category: 'Hardware',
    configurationItem: null,
    description: null,
    ...overrides,
  };
}

const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY);

describe('tokenize', () => {
  it('lowercases, strips punctuation and stop words, keeps numbers', () => {
    expect(tokenize('Printer on floor 3 jams!')).toEqual(['printer', 'floor', '3', 'jam']);
  });

  it('folds simple plurals and verb forms', () => {
    expect(tokenize('crashes printers batteries status')).toEqual(['crash', 'printer', 'battery', 'status']);
  });
});

describe('similarity', () => {
  it('scores the printer titles as similar', () => {
    expect(similarity('Printer on floor 3 jams', 'floor 3 printer paper jam again')).toBeCloseTo(0.8);
    expect(similarity('floor 3 printer paper jam again', 'Paper jam floor 3 printer')).toBe(1);
  });

  it('scores unrelated titles as 0', () => {
    expect(similarity('Printer on floor 3 jams', 'Outlook crashes on start')).toBe(0);
    expect(similarity('', 'anything')).toBe(0);
  });
});

describe('findCluster', () => {
  const first = incident({ title: 'Printer on floor 3 jams', openedAt: daysAgo(3) });
  const second = incident({ title: 'floor 3 printer paper jam again', openedAt: daysAgo(1) });
  const outlook = incident({ title: 'Outlook crashes on start', openedAt: daysAgo(2) });

  it('clusters the three printer incidents, oldest first, and leaves Outlook out', () => {
    const latest = incident({ title: 'Paper jam floor 3 printer' });
    expect(findCluster(latest, [first, outlook, second])).toEqual([first, second, latest]);
  });

  it('returns null below the threshold', () => {
    const latest = incident({ title: 'Paper jam floor 3 printer' });
    expect(findCluster(latest, [first, outlook])).toBeNull();
    expect(findCluster(latest, [first], { threshold: 2 })).toEqual([first, latest]);
  });

  it('does not count the new incident twice', () => {
    const latest = incident({ title: 'Paper jam floor 3 printer' });
    expect(findCluster(latest, [latest, first])).toBeNull();
  });

  it('includes a candidate exactly on the window boundary and excludes one just outside', () => {
    const latest = incident({ title: 'Paper jam floor 3 printer' });
    const onBoundary = { ...first, id: 'edge', openedAt: daysAgo(7) };
    const outside = { ...first, id: 'old', openedAt: new Date(daysAgo(7).getTime() - 1) };
    expect(findCluster(latest, [onBoundary, second])?.map((i) => i.id)).toEqual(['edge', second.id, latest.id]);
    expect(findCluster(latest, [outside, second])).toBeNull();
  });

  it('honours a tenant window', () => {
    const latest = incident({ title: 'Paper jam floor 3 printer' });
    expect(findCluster(latest, [first, second], { windowDays: 2 })).toBeNull();
  });

  it('ignores a similar incident in a different category with a different configuration item', () => {
    const latest = incident({ title: 'Paper jam floor 3 printer' });
    const software = { ...first, category: 'Software' };
    expect(findCluster(latest, [software, second])).toBeNull();
  });

  it('accepts a different category when the configuration item is the same', () => {
    const latest = incident({ title: 'Paper jam floor 3 printer', configurationItem: 'PRN-0301' });
    const software = { ...first, category: 'Software', configurationItem: 'PRN-0301' };
    expect(findCluster(latest, [software, second])).toEqual([software, second, latest]);
  });

  it('does not treat two missing categories as the same category', () => {
    const latest = incident({ title: 'Paper jam floor 3 printer', category: null });
    expect(findCluster(latest, [{ ...first, category: null }, { ...second, category: null }])).toBeNull();
  });

  it('respects a stricter minimum similarity', () => {
    const latest = incident({ title: 'Paper jam floor 3 printer' });
    expect(findCluster(latest, [first, second], { minSimilarity: 0.9 })).toBeNull();
  });
});
