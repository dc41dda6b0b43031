/** Most words of a text a known-error search considers (long descriptions add little after that). */
export const MAX_SEARCH_WORDS = 64;

/**
 * A text as a `websearch_to_tsquery` OR-query of its words ("vpn keeps dropping" ->
 * "vpn or keeps or dropping"): an incident rarely repeats a known error's exact wording, so
 * any shared word counts and ts_rank orders by how much is shared. Punctuation and the
 * operator words of websearch syntax are dropped, so user input cannot change the query's shape.
 */
export function anyWordQuery(text: string): string {
  const words = text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '' && word !== 'or' && word !== 'and');
  return [...new Set(words)].slice(0, MAX_SEARCH_WORDS).join(' or ');
}

/** The text an incident is matched by: its title and description. */
export function incidentSearchText(title: string, description: string | null | undefined): string {
  return description?.trim() ? `${title}\n${description}` : title;
}
