/** Bytes (1 kB = 1000) the first load may weigh, gzipped. */
export const FIRST_LOAD_BUDGET: number;
/** The JS files (relative to dist) that index.html loads up front. */
export function firstLoadScripts(html: string): string[];
/** Measures the first load of the build in `dist`. */
export function measureFirstLoad(dist: string): { files: string[]; total: number; lines: string[] };
/** Prints the report and returns the total; throws when over budget. */
export function reportFirstLoad(dist: string, log?: (line: string) => void): number;
