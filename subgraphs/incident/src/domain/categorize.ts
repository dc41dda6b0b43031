/** A subcategory and the words or phrases that suggest it. */
export interface TaxonomySubcategory {
  name: string;
  keywords: string[];
}

/** A top-level category. */
export interface TaxonomyCategory {
  name: string;
  subcategories: TaxonomySubcategory[];
}

/** Categories in priority order: on equal scores the earlier one wins. */
export type Taxonomy = TaxonomyCategory[];

/** The suggested category, with the keywords that led to it. */
export interface Categorization {
  category: string;
  subcategory: string;
  matchedKeywords: string[];
}

/** One reason a tenant-edited taxonomy is unacceptable; field paths index the input's `categories` list. */
export interface TaxonomyProblem {
  field: string;
  rule: 'required' | 'unique' | 'format';
  message: string;
}

/** The built-in taxonomy a tenant starts from. */
export const DEFAULT_TAXONOMY: Taxonomy = [
  {
    name: 'Hardware',
    subcategories: [
      { name: 'Desktop', keywords: ['desktop', 'pc', 'workstation', 'tower'] },
      { name: 'Laptop', keywords: ['laptop', 'notebook', 'macbook', 'thinkpad', 'battery', 'docking station'] },
      { name: 'Printer', keywords: ['printer', 'print', 'printing', 'toner', 'cartridge', 'paper jam', 'jams', 'jammed'] },
      { name: 'Peripheral', keywords: ['monitor', 'keyboard', 'mouse', 'headset', 'webcam', 'usb', 'speakers'] },
      { name: 'Mobile Device', keywords: ['phone', 'mobile', 'smartphone', 'iphone', 'android', 'tablet', 'ipad'] },
      { name: 'Server', keywords: ['server', 'servers', 'rack', 'raid', 'hypervisor', 'datacenter'] },
    ],
  },
  {
    name: 'Software',
    subcategories: [
      { name: 'Operating System', keywords: ['operating system', 'os', 'windows', 'macos', 'linux', 'bsod', 'blue screen', 'boot'] },
      { name: 'Productivity Software', keywords: ['outlook', 'word', 'excel', 'powerpoint', 'teams', 'office', 'onenote'] },
      { name: 'Business Application', keywords: ['sap', 'salesforce', 'erp', 'crm', 'workday', 'payroll', 'timesheet'] },
      { name: 'Email', keywords: ['email', 'e-mail', 'mailbox', 'inbox', 'smtp', 'exchange', 'shared mailbox', 'distribution list'] },
      { name: 'Browser', keywords: ['browser', 'chrome', 'firefox', 'edge', 'safari', 'internet explorer', 'cookies'] },
    ],
  },
  {
    name: 'Network',
    subcategories: [
      { name: 'VPN', keywords: ['vpn', 'tunnel', 'anyconnect', 'globalprotect', 'forticlient'] },
      { name: 'Wi-Fi', keywords: ['wifi', 'wi-fi', 'wireless', 'ssid', 'access point', 'hotspot'] },
      { name: 'LAN', keywords: ['lan', 'ethernet', 'network cable', 'network port', 'switch port', 'patch panel'] },
      { name: 'Internet', keywords: ['internet', 'isp', 'bandwidth', 'connectivity'] },
      { name: 'DNS', keywords: ['dns', 'name resolution', 'nslookup', 'hostname', 'domain name'] },
      { name: 'Firewall', keywords: ['firewall', 'proxy', 'blocked port', 'port blocked', 'allowlist', 'whitelist'] },
    ],
  },
  {
    name: 'Security',
    subcategories: [
      // "phishing email" also counts so a phishing report outscores the Email subcategory it mentions.
      { name: 'Phishing', keywords: ['phishing', 'phish', 'phishing email', 'suspicious email', 'spoofed', 'spoofing', 'scam'] },
      { name: 'Malware', keywords: ['malware', 'virus', 'ransomware', 'trojan', 'spyware', 'infected', 'antivirus'] },
      { name: 'Account Compromise', keywords: ['compromised', 'hacked', 'account compromise', 'suspicious login', 'unauthorized login', 'stolen credentials'] },
      { name: 'Access Request', keywords: ['privileged access', 'admin rights', 'admin access', 'elevated access', 'administrator rights'] },
      { name: 'Data Loss', keywords: ['data loss', 'data leak', 'data breach', 'leaked', 'exfiltration', 'dlp'] },
    ],
  },
  {
    name: 'Service Request',
    subcategories: [
      { name: 'Access', keywords: ['access', 'permission', 'permissions', 'shared drive', 'shared folder', 'grant access', 'request access'] },
      { name: 'New Hardware', keywords: ['new hardware', 'new laptop', 'new desktop', 'new monitor', 'new phone', 'hardware request', 'equipment request'] },
      { name: 'New Software', keywords: ['new software', 'software request', 'install', 'installation', 'license', 'licence'] },
      { name: 'Password Reset', keywords: ['password', 'password reset', 'reset password', 'forgot password', 'locked out', 'account locked', 'unlock'] },
      { name: 'Information', keywords: ['how do i', 'how to', 'question', 'information', 'enquiry', 'inquiry'] },
    ],
  },
];

/** Best-scoring subcategory for an incident's title and description, or null when no keyword matches. */
export function categorize(
  incident: { title: string; description?: string | null },
  taxonomy: Taxonomy = DEFAULT_TAXONOMY,
): Categorization | null {
  const text = ` ${normalize(`${incident.title} ${incident.description ?? ''}`)} `;
  let best: Categorization | null = null;
  for (const category of taxonomy) {
    for (const subcategory of category.subcategories) {
      const matchedKeywords = subcategory.keywords.filter((keyword) => {
        const phrase = normalize(keyword);
        return phrase !== '' && text.includes(` ${phrase} `);
      });
      // Strictly greater, so ties keep the earlier entry in taxonomy order.
      if (matchedKeywords.length > (best?.matchedKeywords.length ?? 0)) {
        best = { category: category.name, subcategory: subcategory.name, matchedKeywords };
      }
    }
  }
  return best;
}

/** Problems with a tenant-edited taxonomy: names present and unique (case-insensitively), keywords that can match. */
export function validateTaxonomy(input: Taxonomy): TaxonomyProblem[] {
  const problems: TaxonomyProblem[] = [];
  checkNames(input, 'categories', problems);
  input.forEach((category, i) => {
    const path = `categories[${i}]`;
    checkNames(category.subcategories, `${path}.subcategories`, problems);
    category.subcategories.forEach((subcategory, j) => {
      subcategory.keywords.forEach((keyword, k) => {
        // A keyword of only punctuation normalises to nothing and could never match.
        if (typeof keyword !== 'string' || normalize(keyword) === '') {
          problems.push({
            field: `${path}.subcategories[${j}].keywords[${k}]`,
            rule: 'format',
            message: 'keyword must contain at least one letter or digit',
          });
        }
      });
    });
  });
  return problems;
}

/** True when the category exists and, if given, the subcategory exists under it (exact names). */
export function isKnownCategory(taxonomy: Taxonomy, category: string, subcategory?: string | null): boolean {
  const found = taxonomy.find((c) => c.name === category);
  if (!found) return false;
  return subcategory == null || found.subcategories.some((s) => s.name === subcategory);
}

// Lowercased words joined by single spaces, so "Wi-Fi" matches "wi fi" and "vpnclient" never matches "vpn".
function normalize(text: string): string {
  return text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean).join(' ');
}

function checkNames(items: readonly { name: string }[], path: string, problems: TaxonomyProblem[]): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const name = typeof item.name === 'string' ? item.name.trim() : '';
    if (name === '') {
      problems.push({ field: `${path}[${i}].name`, rule: 'required', message: 'name must not be empty' });
    } else if (seen.has(name.toLowerCase())) {
      problems.push({ field: `${path}[${i}].name`, rule: 'unique', message: `"${name}" appears more than once` });
    }
    seen.add(name.toLowerCase());
  });
}
