import { describe, expect, it } from 'vitest';
import { DEFAULT_TAXONOMY, categorize, isKnownCategory, validateTaxonomy, type Taxonomy } from './categorize.js';

describe('categorize', () => {
  it.each([
    ['VPN drops every hour', 'Network', 'VPN'],
    ['Outlook crashes on start', 'Software', 'Productivity Software'],
    ['phishing email received', 'Security', 'Phishing'],
  ])('"%s" -> %s / %s', (title, category, subcategory) => {
    expect(categorize({ title })).toMatchObject({ category, subcategory });
  });

  it('matches whole words only', () => {
    expect(categorize({ title: 'the vpnclient' })).toBeNull();
  });

  it('matches case-insensitively across title and description', () => {
    expect(categorize({ title: 'Cannot connect', description: 'GlobalProtect says the Tunnel is down' })).toEqual({
      category: 'Network',
      subcategory: 'VPN',
      matchedKeywords: ['tunnel', 'globalprotect'],
    });
  });

  it('matches phrases across punctuation', () => {
    expect(categorize({ title: 'Printer: paper-jam on floor 3' })).toEqual({
      category: 'Hardware',
      subcategory: 'Printer',
      matchedKeywords: ['printer', 'paper jam'],
    });
  });

  it('reports the matched keywords', () => {
    expect(categorize({ title: 'phishing email received' })?.matchedKeywords).toEqual(['phishing', 'phishing email']);
  });

  it('breaks ties by taxonomy order', () => {
    // "access point" (Network / Wi-Fi) and "access" (Service Request / Access) each match once.
    expect(categorize({ title: 'access point down' })).toMatchObject({ category: 'Network', subcategory: 'Wi-Fi' });
  });

  it('returns null when nothing matches', () => {
    expect(categorize({ title: 'Something is wrong', description: null })).toBeNull();
  });

  it('follows a tenant-edited keyword list', () => {
    const tenant: Taxonomy = structuredClone(DEFAULT_TAXONOMY);
    const network = tenant.find((c) => c.name === 'Network')!;
    network.subcategories.find((s) => s.name === 'VPN')!.keywords.push('vpnclient');

    expect(categorize({ title: 'the vpnclient' }, tenant)).toMatchObject({
      category: 'Network',
      subcategory: 'VPN',
      matchedKeywords: ['vpnclient'],
    });
    expect(categorize({ title: 'the vpnclient' })).toBeNull();
  });
});

describe('validateTaxonomy', () => {
  it('accepts the default taxonomy', () => {
    expect(validateTaxonomy(DEFAULT_TAXONOMY)).toEqual([]);
  });

  it('rejects empty names, duplicate subcategories and unmatchable keywords', () => {
    const problems = validateTaxonomy([
      {
        name: 'Network',
        subcategories: [
          { name: 'VPN', keywords: ['vpn', ''] },
          { name: 'vpn ', keywords: ['tunnel', '!!!'] },
          { name: ' ', keywords: ['wifi'] },
        ],
      },
      { name: '', subcategories: [] },
    ]);
    expect(problems).toEqual([
      expect.objectContaining({ field: 'categories[1].name', rule: 'required' }),
      expect.objectContaining({ field: 'categories[0].subcategories[1].name', rule: 'unique' }),
      expect.objectContaining({ field: 'categories[0].subcategories[2].name', rule: 'required' }),
      expect.objectContaining({ field: 'categories[0].subcategories[0].keywords[1]', rule: 'format' }),
      expect.objectContaining({ field: 'categories[0].subcategories[1].keywords[1]', rule: 'format' }),
    ]);
  });

  it('rejects duplicate category names', () => {
    expect(validateTaxonomy([{ name: 'Network', subcategories: [] }, { name: 'NETWORK', subcategories: [] }])).toEqual([
      expect.objectContaining({ field: 'categories[1].name', rule: 'unique' }),
    ]);
  });
});

describe('isKnownCategory', () => {
  it('knows categories and their subcategories', () => {
    expect(isKnownCategory(DEFAULT_TAXONOMY, 'Network')).toBe(true);
    expect(isKnownCategory(DEFAULT_TAXONOMY, 'Network', 'VPN')).toBe(true);
  });

  it('rejects unknown names and subcategories under the wrong category', () => {
    expect(isKnownCategory(DEFAULT_TAXONOMY, 'Facilities')).toBe(false);
    expect(isKnownCategory(DEFAULT_TAXONOMY, 'Hardware', 'VPN')).toBe(false);
  });
});
