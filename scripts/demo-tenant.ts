/** The tenant `pnpm start` fills with demo data and prints a dev token for; the importer's default tenant. */
export const DEMO_TENANT_ID = 'd3e0d3e0-0000-4000-8000-000000000001';
