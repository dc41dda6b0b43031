import { describe, expect, it } from 'vitest';
import { anyWordQuery, incidentSearchText, MAX_SEARCH_WORDS } from './search.js';

describe('anyWordQuery', () => {
  it('joins the words of a text with or', () => {
    expect(anyWordQuery('vpn keeps dropping hourly')).toBe('vpn or keeps or dropping or hourly');
  });

  it('drops punctuation, websearch operators and repeated words', () => {
    expect(anyWordQuery('"VPN" -drops OR vpn, and (again)!')).toBe('vpn or drops or again');
  });

  it('keeps letters of other scripts and numbers', () => {
    expect(anyWordQuery('Drucker Etage 3 blockiert')).toBe('drucker or etage or 3 or blockiert');
  });

  it('is empty for a text without words and caps long texts', () => {
    expect(anyWordQuery(' -- !! ')).toBe('');
    const long = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ');
    expect(anyWordQuery(long).split(' or ')).toHaveLength(MAX_SEARCH_WORDS);
  });
});

describe('incidentSearchText', () => {
  it('adds the description when there is one', () => {
    expect(incidentSearchText('VPN drops', 'every hour')).toBe('VPN drops\nevery hour');
    expect(incidentSearchText('VPN drops', '  ')).toBe('VPN drops');
    expect(incidentSearchText('VPN drops', null)).toBe('VPN drops');
  });
});
