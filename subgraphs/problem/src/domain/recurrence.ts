/** What the recurrence detector knows about an incident (from the incident subgraph's events). */
export interface RecurrenceIncident {
  id: string;
  openedAt: Date;
  category: string | null;
  configurationItem: string | null;
  title: string;
  description: string | null;
}

/** Per-tenant thresholds. */
export interface RecurrenceOptions {
  /** Smallest cluster, the new incident included, that counts as recurring. */
  threshold: number;
  /** How far apart, in days either way, a candidate may have opened. */
  windowDays: number;
  /** Jaccard similarity (0..1) a candidate's text needs with the new incident's. */
  minSimilarity: number;
}

/** Defaults: three similar incidents in a week, sharing at least half their words. */
export const DEFAULT_RECURRENCE_OPTIONS: RecurrenceOptions = { threshold: 3, windowDays: 7, minSimilarity: 0.5 };

// Small on purpose: words like "not" or "down" carry meaning in incident titles.
const STOP_WORDS = new Set([
  'a', 'an', 'the', 'and', 'or', 'but', 'of', 'on', 'in', 'at', 'to', 'for', 'with', 'from', 'by', 'as',
  'is', 'are', 'was', 'were', 'be', 'been', 'it', 'its', 'this', 'that', 'i', 'my', 'we', 'our', 'you',
  'again', 'still', 'please',
]);

/** Lowercased, lightly stemmed words without punctuation or stop words; numbers ("floor 3") are kept. */
export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '' && !STOP_WORDS.has(word))
    .map(stem);
}

/** Jaccard similarity of the two texts' token sets; 0 when either has no tokens. */
export function similarity(a: string, b: string): number {
  return jaccard(new Set(tokenize(a)), new Set(tokenize(b)));
}

/** The new incident and its recent look-alikes, oldest first, when there are at least `threshold`; else null. */
export function findCluster(
  newIncident: RecurrenceIncident,
  recentIncidents: readonly RecurrenceIncident[],
  options: Partial<RecurrenceOptions> = {},
): RecurrenceIncident[] | null {
  const { threshold, windowDays, minSimilarity } = { ...DEFAULT_RECURRENCE_OPTIONS, ...options };
  const windowMs = windowDays * 86_400_000;
  const newTokens = new Set(tokenize(textOf(newIncident)));

  const members = recentIncidents.filter(
    (candidate) =>
      candidate.id !== newIncident.id &&
      sharesCategoryOrItem(candidate, newIncident) &&
      Math.abs(candidate.openedAt.getTime() - newIncident.openedAt.getTime()) <= windowMs &&
      jaccard(newTokens, new Set(tokenize(textOf(candidate)))) >= minSimilarity,
  );
  const cluster = [newIncident, ...members].sort((a, b) => a.openedAt.getTime() - b.openedAt.getTime());
  return cluster.length >= threshold ? cluster : null;
}

// Folds plurals and third-person verbs ("jams" -> "jam", "crashes" -> "crash") without a stemming library.
function stem(word: string): string {
  if (word.length <= 3 || /\d/.test(word)) return word;
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (/(ss|sh|ch|x)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const token of a) if (b.has(token)) shared++;
  return shared / (a.size + b.size - shared);
}

function textOf(incident: RecurrenceIncident): string {
  return `${incident.title} ${incident.description ?? ''}`;
}

// Null never matches null: two uncategorised incidents are not thereby related.
function sharesCategoryOrItem(a: RecurrenceIncident, b: RecurrenceIncident): boolean {
  return (
    (a.category !== null && a.category === b.category) ||
    (a.configurationItem !== null && a.configurationItem === b.configurationItem)
  );
}
